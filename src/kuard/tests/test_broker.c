/* The memq broker: FIFO order, counters, byte-exact bodies, the byte cap, many queues. */
#include "support/cm.h"
#include "kuard/memq/broker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void fifo_and_counters(void **state)
{
    (void)state;
    struct memq_broker *b = memq_broker_new(1 << 20);
    assert_int_equal(memq_create(b, "work"), MEMQ_OK);
    assert_int_equal(memq_create(b, "work"), MEMQ_ALREADY_EXISTS);
    for (int i = 0; i < 100; i++) {
        char body[32];
        int n = snprintf(body, sizeof(body), "work-item-%d", i);
        assert_int_equal(memq_enqueue(b, "work", body, (size_t)n, NULL), MEMQ_OK);
    }
    for (int i = 0; i < 60; i++) {
        struct memq_msg *m = NULL;
        char want[32];
        snprintf(want, sizeof(want), "work-item-%d", i);
        assert_int_equal(memq_dequeue(b, "work", &m), MEMQ_OK);
        assert_string_equal(m->body, want);
        memq_msg_free(b, m);
    }
    assert_int_equal(memq_drain(b, "work"), MEMQ_OK);
    struct memq_msg *m = NULL;
    assert_int_equal(memq_dequeue(b, "work", &m), MEMQ_EMPTY);
    struct jp_buf out;
    jp_buf_init(&out, 1 << 16);
    assert_int_equal(memq_stats_json(b, &out), 0);
    assert_string_equal(out.data, "{\"kind\":\"stats\",\"queues\":[{\"name\":\"work\",\"depth\":0,"
                                  "\"enqueued\":100,\"dequeued\":60,\"drained\":40}]}\n");
    jp_buf_free(&out);
    assert_int_equal(memq_delete(b, "work"), MEMQ_OK);
    assert_int_equal(memq_delete(b, "work"), MEMQ_NOT_EXIST);
    assert_int_equal(memq_enqueue(b, "work", "x", 1, NULL), MEMQ_NOT_EXIST);
    assert_int_equal(memq_dequeue(b, "work", &m), MEMQ_NOT_EXIST);
    assert_int_equal(memq_drain(b, "work"), MEMQ_NOT_EXIST);
    memq_broker_free(b);
}

static void bodies_are_byte_exact(void **state)
{
    (void)state;
    struct memq_broker *b = memq_broker_new(1 << 20);
    memq_create(b, "bin");
    unsigned char body[256];
    for (int i = 0; i < 256; i++)
        body[i] = (unsigned char)i; /* NUL, invalid UTF-8, everything */
    assert_int_equal(memq_enqueue(b, "bin", body, sizeof(body), NULL), MEMQ_OK);
    assert_int_equal(memq_enqueue(b, "bin", "", 0, NULL), MEMQ_OK);
    struct memq_msg *m = NULL;
    assert_int_equal(memq_dequeue(b, "bin", &m), MEMQ_OK);
    assert_int_equal(m->len, 256);
    assert_memory_equal(m->body, body, 256);
    memq_msg_free(b, m);
    assert_int_equal(memq_dequeue(b, "bin", &m), MEMQ_OK);
    assert_int_equal(m->len, 0);
    memq_msg_free(b, m);
    memq_broker_free(b);
}

static void message_json_matches_kuard(void **state)
{
    (void)state;
    struct memq_broker *b = memq_broker_new(1 << 20);
    memq_create(b, "q");
    const struct memq_msg *m = NULL;
    assert_int_equal(memq_enqueue(b, "q", "a<b\xff", 4, &m), MEMQ_OK);
    struct jp_buf out;
    jp_buf_init(&out, 1 << 16);
    assert_int_equal(memq_msg_json(m, &out), 0);
    /* {"kind":"message","id":"<32 hex>","body":"a\u003cb\ufffd","creationTimestamp":"...Z"}\n */
    static const char head[] = "{\"kind\":\"message\",\"id\":\"";
    static const char mid[] = "\",\"body\":\"a\\u003cb\\ufffd\",\"creationTimestamp\":\"";
    size_t h = sizeof(head) - 1;
    assert_memory_equal(out.data, head, h);
    for (size_t i = h; i < h + 32; i++)
        assert_non_null(strchr("0123456789abcdef", out.data[i]));
    assert_memory_equal(out.data + h + 32, mid, sizeof(mid) - 1);
    assert_memory_equal(out.data + out.len - 4, "Z\"}\n", 4);
    jp_buf_free(&out);
    memq_broker_free(b);
}

static void byte_cap_refuses_and_recovers(void **state)
{
    (void)state;
    struct memq_broker *b = memq_broker_new(4096);
    memq_create(b, "q");
    char body[1000];
    memset(body, 'x', sizeof(body));
    int ok = 0;
    while (memq_enqueue(b, "q", body, sizeof(body), NULL) == MEMQ_OK)
        ok++;
    assert_int_equal(ok, 3); /* 3 x ~1 KB fit in 4 KiB with the queue's own cost */
    assert_int_equal(memq_enqueue(b, "q", body, sizeof(body), NULL), MEMQ_FULL);
    struct memq_msg *m = NULL;
    assert_int_equal(memq_dequeue(b, "q", &m), MEMQ_OK);
    memq_msg_free(b, m);
    assert_int_equal(memq_enqueue(b, "q", body, sizeof(body), NULL), MEMQ_OK);
    assert_int_equal(memq_drain(b, "q"), MEMQ_OK);
    for (int i = 0; i < 3; i++)
        assert_int_equal(memq_enqueue(b, "q", body, sizeof(body), NULL), MEMQ_OK);
    memq_broker_free(b);
}

static void ten_thousand_queues(void **state)
{
    (void)state;
    struct memq_broker *b = memq_broker_new(64 << 20);
    char name[32];
    for (int i = 0; i < 10000; i++) {
        snprintf(name, sizeof(name), "queue-%d", i);
        assert_int_equal(memq_create(b, name), MEMQ_OK);
        assert_int_equal(memq_enqueue(b, name, name, strlen(name), NULL), MEMQ_OK);
    }
    assert_int_equal(memq_queue_count(b), 10000);
    for (int i = 0; i < 10000; i += 2) {
        snprintf(name, sizeof(name), "queue-%d", i);
        assert_int_equal(memq_delete(b, name), MEMQ_OK);
    }
    assert_int_equal(memq_queue_count(b), 5000);
    for (int i = 1; i < 10000; i += 2) {
        snprintf(name, sizeof(name), "queue-%d", i);
        struct memq_msg *m = NULL;
        assert_int_equal(memq_dequeue(b, name, &m), MEMQ_OK);
        assert_string_equal(m->body, name);
        memq_msg_free(b, m);
    }
    struct jp_buf out;
    jp_buf_init(&out, 16 << 20);
    assert_int_equal(memq_stats_json(b, &out), 0);
    /* creation order is kept: the first surviving queue is queue-1 */
    assert_memory_equal(out.data, "{\"kind\":\"stats\",\"queues\":[{\"name\":\"queue-1\",", 44);
    jp_buf_free(&out);
    memq_broker_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fifo_and_counters),
        cmocka_unit_test(bodies_are_byte_exact),
        cmocka_unit_test(message_json_matches_kuard),
        cmocka_unit_test(byte_cap_refuses_and_recovers),
        cmocka_unit_test(ten_thousand_queues),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
