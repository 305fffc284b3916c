/* cmocka needs these headers before its own; every test includes this first. */
#ifndef JP_TEST_CM_H
#define JP_TEST_CM_H
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#endif
