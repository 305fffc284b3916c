/* The pod network (root only). The node gets a network namespace of its own, made by this
 * agent and held by a holder process like a pod's, so neither the host's interfaces nor another
 * jobplane's pods are touched. In it: a bridge with the node's address (10.244.0.1/16) and a
 * local route for the whole Service range (10.96.0.0/12), so the Service proxy can listen on any
 * ClusterIP without adding an address per Service. Each pod gets a veth pair: eth0 with its own
 * 10.244.x.y/16 in the pod's namespace, the other end on the bridge. Pods reach each other over
 * the bridge and Services through the node; there is no default route, so nothing a pod sends
 * leaves the node. Every step tolerates "already there": adopting a pod after a restart runs the
 * same steps again. Netlink messages are built with libmnl. */
#include "agent/agent-internal.h"
#include "base/alloc.h"
#include "base/fsutil.h"
#include "base/log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BRIDGE     "jp0"
#define NODE_IP    0x0af40001u /* 10.244.0.1 */
#define POD_PREFIX 16
#define SVC_NET    0x0a600000u /* 10.96.0.0/12 */
#define SVC_PREFIX 12
#define POD_HOSTS  65534u /* 10.244.0.1 .. 10.244.255.254 */

struct agent_net {
    int node_ns, host_ns; /* namespace descriptors: the node's, and the loop thread's own */
    int holder;           /* the node namespace's holder process */
    int bridge;           /* the bridge's interface index in the node namespace */
    char *dir;            /* DATA/node: the holder's record */
    uint8_t used[POD_HOSTS / 8 + 1];
    uint32_t cursor; /* allocation goes round, so an address is not reused at once */
};

/* ---- netlink ---- */

struct nl {
    struct mnl_socket *s;
    char buf[8192];
    uint32_t seq;
};

static int nl_open(struct nl *n)
{
    n->s = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
    if (n->s == NULL || mnl_socket_bind(n->s, 0, MNL_SOCKET_AUTOPID) < 0) {
        int e = errno;
        if (n->s) mnl_socket_close(n->s);
        n->s = NULL;
        return -e;
    }
    n->seq = (uint32_t)time(NULL);
    return 0;
}

static void nl_close(struct nl *n)
{
    if (n->s) mnl_socket_close(n->s);
    n->s = NULL;
}

static struct nlmsghdr *nl_msg(struct nl *n, uint16_t type, uint16_t flags)
{
    struct nlmsghdr *h = mnl_nlmsg_put_header(n->buf);
    h->nlmsg_type = type;
    h->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
    h->nlmsg_seq = ++n->seq;
    return h;
}

/* Sends and waits for the ack: 0, or -errno (EEXIST counts as done). */
static int nl_talk(struct nl *n, struct nlmsghdr *h)
{
    if (mnl_socket_sendto(n->s, h, h->nlmsg_len) < 0) return -errno;
    uint32_t seq = h->nlmsg_seq, portid = mnl_socket_get_portid(n->s);
    ssize_t r = mnl_socket_recvfrom(n->s, n->buf, sizeof(n->buf));
    if (r < 0) return -errno;
    int rc = mnl_cb_run(n->buf, (size_t)r, seq, portid, NULL, NULL);
    if (rc < 0 && errno == EEXIST) return 0;
    return rc < 0 ? -errno : 0;
}

static struct ifinfomsg *link_msg(struct nl *n, struct nlmsghdr **h, uint16_t flags)
{
    *h = nl_msg(n, RTM_NEWLINK, flags);
    struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(*h, sizeof(*ifi));
    ifi->ifi_family = AF_UNSPEC;
    return ifi;
}

/* Brings a link up, optionally enslaving it to a bridge. */
static int link_up(struct nl *n, int index, int master)
{
    struct nlmsghdr *h;
    struct ifinfomsg *ifi = link_msg(n, &h, 0);
    ifi->ifi_index = index;
    ifi->ifi_flags = IFF_UP;
    ifi->ifi_change = IFF_UP;
    if (master > 0) mnl_attr_put_u32(h, IFLA_MASTER, (uint32_t)master);
    return nl_talk(n, h);
}

/* The bridge's own address, set once (locally administered, unicast): a bridge whose address
 * was never set takes its lowest port's and looks for it again on every port that comes or
 * goes, and multicast snooping off (the pod network floods multicast like a hub): snooping set
 * up and tore down per-port state on every veth. Both walk every port: with hundreds of pods
 * starting at once they made each new sandbox slower than the last. */
static const uint8_t BRIDGE_MAC[6] = {0x02, 0x6a, 0x70, 0x00, 0x00, 0x01};

static int add_bridge(struct nl *n)
{
    struct nlmsghdr *h;
    link_msg(n, &h, NLM_F_CREATE | NLM_F_EXCL);
    mnl_attr_put_strz(h, IFLA_IFNAME, BRIDGE);
    mnl_attr_put(h, IFLA_ADDRESS, sizeof(BRIDGE_MAC), BRIDGE_MAC);
    struct nlattr *info = mnl_attr_nest_start(h, IFLA_LINKINFO);
    mnl_attr_put_strz(h, IFLA_INFO_KIND, "bridge");
    struct nlattr *data = mnl_attr_nest_start(h, IFLA_INFO_DATA);
    mnl_attr_put_u8(h, IFLA_BR_MCAST_SNOOPING, 0);
    mnl_attr_nest_end(h, data);
    mnl_attr_nest_end(h, info);
    return nl_talk(n, h);
}

/* A veth pair: `name` here (up, on the bridge), eth0 in the namespace of process `pid`. */
static int add_veth(struct nl *n, const char *name, int pid, int bridge)
{
    struct nlmsghdr *h;
    struct ifinfomsg *ifi = link_msg(n, &h, NLM_F_CREATE | NLM_F_EXCL);
    ifi->ifi_flags = IFF_UP;
    ifi->ifi_change = IFF_UP;
    mnl_attr_put_strz(h, IFLA_IFNAME, name);
    mnl_attr_put_u32(h, IFLA_MASTER, (uint32_t)bridge);
    struct nlattr *info = mnl_attr_nest_start(h, IFLA_LINKINFO);
    mnl_attr_put_strz(h, IFLA_INFO_KIND, "veth");
    struct nlattr *data = mnl_attr_nest_start(h, IFLA_INFO_DATA);
    struct nlattr *peer = mnl_attr_nest_start(h, VETH_INFO_PEER);
    struct ifinfomsg *pi = mnl_nlmsg_put_extra_header(h, sizeof(*pi));
    pi->ifi_family = AF_UNSPEC;
    mnl_attr_put_strz(h, IFLA_IFNAME, "eth0");
    mnl_attr_put_u32(h, IFLA_NET_NS_PID, (uint32_t)pid);
    mnl_attr_nest_end(h, peer);
    mnl_attr_nest_end(h, data);
    mnl_attr_nest_end(h, info);
    return nl_talk(n, h);
}

static int add_addr(struct nl *n, int index, uint32_t ip, int prefix)
{
    struct nlmsghdr *h = nl_msg(n, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
    struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(h, sizeof(*ifa));
    ifa->ifa_family = AF_INET;
    ifa->ifa_prefixlen = (unsigned char)prefix;
    ifa->ifa_scope = RT_SCOPE_UNIVERSE;
    ifa->ifa_index = (unsigned)index;
    uint32_t be = htonl(ip);
    mnl_attr_put_u32(h, IFA_LOCAL, be);
    mnl_attr_put_u32(h, IFA_ADDRESS, be);
    return nl_talk(n, h);
}

/* type RTN_LOCAL: every address of dst/prefix is this host's (on lo); else via gw. */
static int add_route(struct nl *n, uint32_t dst, int prefix, unsigned char type, uint32_t gw,
                     int oif)
{
    struct nlmsghdr *h = nl_msg(n, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL);
    struct rtmsg *rt = mnl_nlmsg_put_extra_header(h, sizeof(*rt));
    rt->rtm_family = AF_INET;
    rt->rtm_dst_len = (unsigned char)prefix;
    rt->rtm_table = type == RTN_LOCAL ? RT_TABLE_LOCAL : RT_TABLE_MAIN;
    rt->rtm_protocol = RTPROT_BOOT;
    rt->rtm_scope = type == RTN_LOCAL ? RT_SCOPE_HOST : RT_SCOPE_UNIVERSE;
    rt->rtm_type = type;
    mnl_attr_put_u32(h, RTA_DST, htonl(dst));
    if (gw) mnl_attr_put_u32(h, RTA_GATEWAY, htonl(gw));
    mnl_attr_put_u32(h, RTA_OIF, (uint32_t)oif);
    return nl_talk(n, h);
}

/* ---- namespaces ---- */

static int enter(int ns)
{
    return setns(ns, CLONE_NEWNET) < 0 ? -errno : 0;
}

/* Back to the thread's own namespace (home): failing here would leave the server's sockets in
 * the wrong place, so it is not survivable. */
static void leave(int home)
{
    if (setns(home, CLONE_NEWNET) < 0) {
        jp_log(JP_ERROR, "agent", "returning to the host network namespace: %s", strerror(errno));
        abort();
    }
}

/* A non-blocking socket made in namespace ns (sockets keep theirs), the thread back home after.
 * -1 with *e. */
static int socket_in(int ns, int home, int type, int *e)
{
    if (setns(ns, CLONE_NEWNET) < 0) {
        *e = errno;
        return -1;
    }
    int s = socket(AF_INET, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    *e = errno;
    leave(home);
    return s;
}

int net__socket(struct jp_agent *a, int type)
{
    int e;
    int s = socket_in(a->net->node_ns, a->net->host_ns, type, &e);
    return s < 0 ? -e : s;
}

/* New interfaces of the calling thread's namespace get no IPv6: pods are IPv4 only, and each
 * interface would otherwise cost the kernel link-local addresses, duplicate-address detection
 * and router solicitations, made and torn down with every pod. */
static void no_ipv6_here(void)
{
    int fd = open("/proc/sys/net/ipv6/conf/default/disable_ipv6", O_WRONLY | O_CLOEXEC);
    if (fd < 0) return; /* a kernel without IPv6 */
    ssize_t w = write(fd, "1", 1);
    (void)w;
    close(fd);
}

static int setup_node(struct agent_net *net)
{
    struct nl n = {0};
    int rc = enter(net->node_ns);
    if (rc == 0) no_ipv6_here();
    if (rc == 0) rc = nl_open(&n);
    if (rc == 0) rc = link_up(&n, (int)if_nametoindex("lo"), 0);
    if (rc == 0) rc = add_bridge(&n);
    int br = net->bridge = rc == 0 ? (int)if_nametoindex(BRIDGE) : 0;
    if (rc == 0) rc = br > 0 ? add_addr(&n, br, NODE_IP, POD_PREFIX) : -ENODEV;
    if (rc == 0) rc = link_up(&n, br, 0);
    if (rc == 0) rc = add_route(&n, SVC_NET, SVC_PREFIX, RTN_LOCAL, 0, (int)if_nametoindex("lo"));
    nl_close(&n);
    leave(net->host_ns);
    return rc;
}

int net__start(struct jp_agent *a, const char *data_dir, struct jp_err **err)
{
    struct agent_net *net = jp_xcalloc(1, sizeof(*net));
    net->node_ns = net->host_ns = -1;
    net->dir = jp_xasprintf("%s/node", data_dir);
    net->cursor = 0; /* 10.244.0.2 first: .0.1 is the node */
    int rc = -1;
    net->host_ns = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (net->host_ns < 0) {
        jp_err_set(err, JP_INTERNAL, errno, "opening the host network namespace: %s",
                   strerror(errno));
        goto out;
    }
    uint32_t unused;
    net->holder = spawn__holder_recorded(net->dir, &unused);
    if (net->holder <= 0 &&
        spawn__holder(a->self_exe, net->dir, "", CLONE_NEWNET, 0, &net->holder, NULL, err) < 0)
        goto out;
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/ns/net", net->holder);
    net->node_ns = open(path, O_RDONLY | O_CLOEXEC);
    int e = net->node_ns < 0 ? -errno : setup_node(net);
    if (e < 0) {
        jp_err_set(err, JP_INTERNAL, -e, "setting up the pod network: %s", strerror(-e));
        goto out;
    }
    a->net = net;
    rc = 0;
out:
    if (rc < 0) {
        if (net->holder > 0) kill(net->holder, SIGKILL);
        net__free(net);
    }
    return rc;
}

void net__free(struct agent_net *net)
{
    if (net == NULL) return;
    if (net->node_ns >= 0) close(net->node_ns);
    if (net->host_ns >= 0) close(net->host_ns);
    free(net->dir);
    free(net);
}

void net__stop(struct jp_agent *a, bool release)
{
    struct agent_net *net = a->net;
    if (net == NULL) return;
    if (release) { /* the pods are gone: so is their network */
        kill(net->holder, SIGKILL);
        jp_remove_tree(net->dir);
    }
    a->net = NULL;
    net__free(net);
}

/* ---- addresses ---- */

static bool used(const struct agent_net *net, uint32_t host)
{
    return net->used[host / 8] & (1u << (host % 8));
}

static void mark(struct agent_net *net, uint32_t host, bool on)
{
    if (on)
        net->used[host / 8] |= (uint8_t)(1u << (host % 8));
    else
        net->used[host / 8] &= (uint8_t) ~(1u << (host % 8));
}

uint32_t net__alloc(struct jp_agent *a)
{
    struct agent_net *net = a->net;
    for (uint32_t i = 0; i < POD_HOSTS; i++) {
        uint32_t host = 2 + (net->cursor + i) % (POD_HOSTS - 1); /* 2 .. 65535 */
        if (host >= 0xffff || used(net, host)) continue;
        mark(net, host, true);
        net->cursor = host - 1;
        return (NODE_IP & 0xffff0000u) | host;
    }
    return 0;
}

void net__claim(struct jp_agent *a, uint32_t ip)
{
    if (a->net && (ip & 0xffff0000u) == (NODE_IP & 0xffff0000u)) mark(a->net, ip & 0xffff, true);
}

void net__free_ip(struct jp_agent *a, uint32_t ip)
{
    if (a->net && (ip & 0xffff0000u) == (NODE_IP & 0xffff0000u)) mark(a->net, ip & 0xffff, false);
}

const char *net__ip_str(uint32_t ip, char buf[static 16])
{
    struct in_addr in = {htonl(ip)};
    return inet_ntop(AF_INET, &in, buf, 16);
}

uint32_t net__node_ip(void)
{
    return NODE_IP;
}

/* The pod's end: eth0 with its address, lo, and the route to Services through the node. */
static int setup_pod_side(uint32_t ip)
{
    struct nl n = {0};
    int rc = nl_open(&n);
    int eth0 = rc == 0 ? (int)if_nametoindex("eth0") : 0;
    if (rc == 0 && eth0 <= 0) rc = -ENODEV;
    if (rc == 0) rc = add_addr(&n, eth0, ip, POD_PREFIX);
    if (rc == 0) rc = link_up(&n, eth0, 0);
    if (rc == 0) rc = link_up(&n, (int)if_nametoindex("lo"), 0);
    if (rc == 0) rc = add_route(&n, SVC_NET, SVC_PREFIX, RTN_UNICAST, NODE_IP, eth0);
    nl_close(&n);
    return rc;
}

/* Deletes the link named name in the current namespace, if there is one. */
static void drop_link(struct nl *n, const char *name)
{
    int index = (int)if_nametoindex(name);
    if (index <= 0) return;
    struct nlmsghdr *h = nl_msg(n, RTM_DELLINK, 0);
    struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(h, sizeof(*ifi));
    ifi->ifi_family = AF_UNSPEC;
    ifi->ifi_index = index;
    nl_talk(n, h);
}

/* Any thread: setns moves only the caller, which comes back before returning. fresh: a new
 * sandbox, whose host-side veth name may still be held by a dying namespace's pair (one a
 * previous server killed moments ago; its address allocation started where ours does): that
 * stale link is deleted, else the new pair would not be made and the pod would lose its
 * network. */
int net__connect(struct agent_net *net, int pid, uint32_t ip, bool fresh, const char *what,
                 struct jp_err **err)
{
    char veth[IFNAMSIZ], path[64];
    snprintf(veth, sizeof(veth), "jpv%04x", ip & 0xffff);
    snprintf(path, sizeof(path), "/proc/%d/ns/net", pid);
    struct nl n = {0};
    int pod_ns = open(path, O_RDONLY | O_CLOEXEC);
    int rc = pod_ns < 0 ? -errno : enter(pod_ns);
    if (rc == 0) no_ipv6_here(); /* before eth0 is made there */
    if (rc == 0) rc = enter(net->node_ns);
    if (rc == 0) rc = nl_open(&n);
    if (rc == 0 && fresh) drop_link(&n, veth);
    /* a pod adopted after a restart may have its pair already: then eth0 is not created again */
    if (rc == 0) rc = add_veth(&n, veth, pid, net->bridge);
    nl_close(&n);
    if (rc == 0) rc = enter(pod_ns);
    if (rc == 0) rc = setup_pod_side(ip);
    leave(net->host_ns);
    if (pod_ns >= 0) close(pod_ns);
    if (rc < 0) {
        char text[16];
        return jp_err_set(err, JP_INTERNAL, -rc, "connecting %s (%s) to the pod network: %s", what,
                          net__ip_str(ip, text), strerror(-rc));
    }
    return 0;
}

int net__attach(struct pod *p, struct jp_err **err)
{
    struct agent_net *net = p->agent->net;
    if (net == NULL || p->ip == 0 || p->netns_pid <= 0) return 0;
    char *what = jp_xasprintf("pod %s/%s", p->ns, p->name);
    int rc = net__connect(net, p->netns_pid, p->ip, false, what, err);
    free(what);
    return rc;
}

/* ---- sockets for port-forward and probes ---- */

/* A TCP socket in the pod's own network namespace (the server's, for a pod without one). */
static int socket_in_pod(const struct pod *p, int *e)
{
    int s = -1;
    *e = 0;
    if (p->netns_pid <= 0) {
        s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        *e = errno;
        return s;
    }
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/ns/net", p->netns_pid);
    int here = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    int there = open(path, O_RDONLY | O_CLOEXEC);
    if (here >= 0 && there >= 0)
        s = socket_in(there, here, SOCK_STREAM, e);
    else
        *e = errno;
    if (here >= 0) close(here);
    if (there >= 0) close(there);
    return s;
}

/* Probes come from the node, as the kubelet's do from the host: to the pod's IP when it has
 * one, else to its loopback. */
int agent__probe_socket(const struct pod *p, uint16_t port, struct sockaddr_in *to)
{
    *to = (struct sockaddr_in){.sin_family = AF_INET,
                               .sin_port = htons(port),
                               .sin_addr.s_addr = htonl(p->ip ? p->ip : INADDR_LOOPBACK)};
    int e;
    return p->ip ? net__socket(p->agent, SOCK_STREAM) : socket_in_pod(p, &e);
}

int jp_agent_pod_socket(struct jp_agent *a, const char *ns, const char *name, uint16_t port,
                        struct sockaddr_in *to, struct jp_status **st)
{
    struct pod *p = agent__find(a, ns, name);
    if (p == NULL || !pod__running(p) || p->terminating) {
        /* the apiserver found the pod: it is not running here (yet, or any more) */
        *st = jp_status_new(JP_BAD_REQUEST, "pod %s is not running: unable to forward port %u",
                            name, (unsigned)port);
        return -1;
    }
    /* the kubelet forwards to the port on the pod's own loopback */
    *to = (struct sockaddr_in){
        .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int e;
    int s = socket_in_pod(p, &e);
    if (s < 0) {
        *st = jp_status_new(JP_INTERNAL, "forwarding to pod %s/%s: %s", ns, name, strerror(e));
        return -1;
    }
    return s;
}
