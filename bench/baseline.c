/* The limit: the same workloads as the Lua scripts in bench/, written directly against the vendored ENet C
 * core, with no Lua in between. Same structure, same sizes, same batch sizes, same clock (CPU
 * time of the process), same output lines `name value unit`.
 *
 * Build (bench/run does this):
 *   cc -O2 -Ivendor/enet/include -DHAS_POLL=1 -DHAS_FCNTL=1 -DHAS_GETADDRINFO=1 \
 *      -DHAS_GETNAMEINFO=1 -DHAS_INET_PTON=1 -DHAS_INET_NTOP=1 -DHAS_MSGHDR_FLAGS=1 \
 *      -DHAS_SOCKLEN_T=1 bench/baseline.c vendor/enet/{callbacks,compress,host,list,packet,peer,protocol,unix}.c
 *
 * The Lua-only figures peer:state() and peer:round_trip_time() are field reads in C and have no
 * baseline; the per-call costs of enet_host_service with nothing pending and of creating and
 * sending a 32-byte unsequenced packet are printed, since the binding's cost sits on top of them.
 */
#include <enet/enet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_CLIENTS 200

static double seconds = 1.0;
static const char msg32[32] = "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx";

static double now(void) { return (double)clock() / CLOCKS_PER_SEC; }

static void fail(const char *what) {
    fprintf(stderr, "bench failure: %s\n", what);
    exit(1);
}

static void report(const char *name, double value, const char *unit) {
    printf("%s %.6g %s\n", name, value, unit);
    fflush(stdout);
}

/* Wall-clock stall guard, as common.lua's guard(). */
typedef struct { time_t deadline; const char *what; } guard_t;
static guard_t guard(const char *what) {
    guard_t g = { time(NULL) + 20, what };
    return g;
}
static void check(const guard_t *g) {
    if (time(NULL) > g->deadline) {
        fprintf(stderr, "bench failure: %s: no progress before the deadline\n", g->what);
        exit(1);
    }
}

static ENetHost *host(size_t peer_count) {
    ENetAddress a;
    if (enet_address_set_host_ip(&a, "127.0.0.1") != 0) fail("address");
    a.port = ENET_PORT_ANY;
    ENetHost *h = enet_host_create(&a, peer_count, 1, 0, 0);
    if (!h) fail("enet_host_create");
    return h;
}

/* Per-event work of a drain, as the Lua callbacks do it. */
typedef struct {
    int kind;            /* what to do with a receive event */
    long received;       /* receive events seen */
    long connects;       /* connect events seen */
    ENetPeer **connected; /* where to store peers of connect events (server side) */
    size_t expected_len; /* bulk: the size every receive must have */
} sink_t;
enum { SINK_COUNT, SINK_ECHO };

/* enet_host_service(0) until no event, as common.lua's drain(). */
static long drain(ENetHost *h, sink_t *s) {
    long n = 0;
    ENetEvent e;
    int rc;
    while ((rc = enet_host_service(h, &e, 0)) > 0) {
        n++;
        if (n > 1000000) fail("drain: more than 10^6 events in one drain");
        if (!s) {
            if (e.type == ENET_EVENT_TYPE_RECEIVE) enet_packet_destroy(e.packet);
            continue;
        }
        switch (e.type) {
        case ENET_EVENT_TYPE_CONNECT:
            if (s->connected) s->connected[s->connects] = e.peer;
            s->connects++;
            break;
        case ENET_EVENT_TYPE_RECEIVE:
            if (s->expected_len && e.packet->dataLength != s->expected_len) fail("bulk: wrong size");
            s->received++;
            if (s->kind == SINK_ECHO) {
                ENetPacket *p = enet_packet_create(e.packet->data, e.packet->dataLength,
                                                   ENET_PACKET_FLAG_RELIABLE);
                if (!p || enet_peer_send(e.peer, 0, p) < 0) fail("echo send");
            }
            enet_packet_destroy(e.packet);
            break;
        default:
            break;
        }
    }
    if (rc < 0) fail("enet_host_service");
    return n;
}

static void connect_all(ENetHost *server, ENetHost **clients, int n, ENetPeer **cpeers) {
    ENetAddress a;
    if (enet_socket_get_address(server->socket, &a) != 0) fail("getsockname");
    for (int i = 0; i < n; i++) {
        cpeers[i] = enet_host_connect(clients[i], &a, 1, 0);
        if (!cpeers[i]) fail("enet_host_connect");
    }
    sink_t ss = { SINK_COUNT, 0, 0, NULL, 0 };
    long connected = 0;
    guard_t g = guard("connect");
    while (ss.connects < n || connected < n) {
        check(&g);
        drain(server, &ss);
        for (int i = 0; i < n; i++) {
            sink_t cs = { SINK_COUNT, 0, 0, NULL, 0 };
            drain(clients[i], &cs);
            connected += cs.connects;
        }
    }
    for (int i = 0; i < n; i++)
        if (cpeers[i]->state != ENET_PEER_STATE_CONNECTED) fail("client not connected");
}

typedef struct { ENetHost *server, *client; ENetPeer *peer; } pair_t;

static pair_t pair(void) {
    pair_t p;
    p.server = host(1);
    p.client = host(1);
    connect_all(p.server, &p.client, 1, &p.peer);
    return p;
}

static void destroy_pair(pair_t *p) {
    enet_host_destroy(p->server);
    enet_host_destroy(p->client);
}

static void send32(ENetPeer *peer, enet_uint32 flags) {
    ENetPacket *p = enet_packet_create(msg32, sizeof msg32, flags);
    if (!p) fail("enet_packet_create");
    if (enet_peer_send(peer, 0, p) < 0) {
        enet_packet_destroy(p);
        fail("enet_peer_send");
    }
}

/* ---- ping-pong (pingpong.lua) ---- */

static double pingpong_run(pair_t *p, double secs, long *trips_out) {
    long trips = 0, iter = 0;
    guard_t g = guard("ping-pong");
    ENetEvent e;
    send32(p->peer, ENET_PACKET_FLAG_RELIABLE);
    double t0 = now(), elapsed = 0;
    for (;;) {
        int rc = enet_host_service(p->server, &e, 0);
        if (rc < 0) fail("service");
        if (rc > 0 && e.type == ENET_EVENT_TYPE_RECEIVE) {
            ENetPacket *echo = enet_packet_create(e.packet->data, e.packet->dataLength,
                                                  ENET_PACKET_FLAG_RELIABLE);
            if (!echo || enet_peer_send(e.peer, 0, echo) < 0) fail("echo");
            enet_packet_destroy(e.packet);
        }
        rc = enet_host_service(p->client, &e, 0);
        if (rc < 0) fail("service");
        if (rc > 0 && e.type == ENET_EVENT_TYPE_RECEIVE) {
            enet_packet_destroy(e.packet);
            trips++;
            send32(p->peer, ENET_PACKET_FLAG_RELIABLE);
        }
        iter++;
        if (iter % 64 == 0) {
            elapsed = now() - t0;
            if (elapsed >= secs) break;
            check(&g);
        }
    }
    guard_t g2 = guard("ping-pong drain");
    for (;;) {
        check(&g2);
        sink_t echo = { SINK_ECHO, 0, 0, NULL, 0 }, home = { SINK_COUNT, 0, 0, NULL, 0 };
        drain(p->server, &echo);
        drain(p->client, &home);
        if (home.received) break;
    }
    *trips_out = trips;
    return elapsed;
}

static void pingpong(void) {
    pair_t p = pair();
    long trips;
    pingpong_run(&p, 0.1 * seconds, &trips);
    double elapsed = pingpong_run(&p, seconds, &trips);
    if (trips == 0) fail("ping-pong: no round trip");
    report("pingpong_reliable", trips / elapsed, "rt/s");
    destroy_pair(&p);
}

/* ---- one-way bursts (burst.lua) ---- */

#define BATCH 64
#define CAP 4096

static double burst(enet_uint32 flags, double secs) {
    pair_t p = pair();
    long sent = 0, rounds = 0;
    sink_t s = { SINK_COUNT, 0, 0, NULL, 0 };
    guard_t g = guard("burst");
    double t0 = now(), elapsed = 0;
    while (elapsed < secs) {
        if (!(flags & ENET_PACKET_FLAG_RELIABLE) || sent - s.received < CAP) {
            for (int i = 0; i < BATCH; i++) send32(p.peer, flags);
            sent += BATCH;
        }
        drain(p.client, NULL);
        drain(p.server, &s);
        rounds++;
        if (rounds % 16 == 0) check(&g);
        elapsed = now() - t0;
    }
    if (s.received == 0) fail("burst: nothing delivered");
    destroy_pair(&p);
    return s.received / elapsed;
}

/* ---- per-call costs (calls.lua) ---- */

static double service_idle(pair_t *p) {
    /* Calibrated like per_call() in calls.lua. */
    ENetEvent e;
    long n = 1000;
    for (;;) {
        double t0 = now();
        for (long i = 0; i < n; i++)
            if (enet_host_service(p->client, &e, 0) > 0 && e.type == ENET_EVENT_TYPE_RECEIVE)
                enet_packet_destroy(e.packet);
        double t = now() - t0;
        if (t >= 0.05 * seconds) {
            n = (long)(n * seconds / t);
            break;
        }
        n *= 4;
    }
    double t0 = now();
    for (long i = 0; i < n; i++)
        if (enet_host_service(p->client, &e, 0) > 0 && e.type == ENET_EVENT_TYPE_RECEIVE)
            enet_packet_destroy(e.packet);
    return (now() - t0) / n * 1e9;
}

#define BLOCK 256

/* ns per send, and (*flushed_ns) per send with the flush after each block */
static double send_cost(pair_t *p, double secs, double *flushed_ns) {
    double busy = 0, flushed = 0;
    long blocks = 0;
    guard_t g = guard("send");
    while (busy < secs) {
        double t0 = now();
        for (int i = 0; i < BLOCK; i++) send32(p->peer, ENET_PACKET_FLAG_UNSEQUENCED);
        double t1 = now();
        enet_host_flush(p->client);
        busy += t1 - t0;
        flushed += now() - t0;
        blocks++;
        drain(p->server, NULL);
        if (blocks % 64 == 0) check(&g);
    }
    double idle = 0;
    for (long b = 0; b < blocks; b++) {
        double t0 = now();
        idle += now() - t0;
    }
    *flushed_ns = (flushed - idle) / (blocks * BLOCK) * 1e9;
    return (busy - idle) / (blocks * BLOCK) * 1e9;
}

static void settle(pair_t *p) {
    for (int i = 0; i < 20; i++) {
        drain(p->server, NULL);
        drain(p->client, NULL);
    }
}

static void calls(void) {
    pair_t p = pair();
    settle(&p);
    report("call_service_idle", service_idle(&p), "ns");
    settle(&p);
    double flushed;
    send_cost(&p, 0.05 * seconds, &flushed);
    report("call_send_unsequenced", send_cost(&p, 0.5 * seconds, &flushed), "ns");
    report("call_send_flushed", flushed, "ns");
    destroy_pair(&p);
}

/* ---- broadcast (broadcast.lua) ---- */

#define PER_ROUND 4

static double broadcast_run(ENetHost *server, ENetHost **clients, double secs) {
    sink_t s = { SINK_COUNT, 0, 0, NULL, 0 };
    guard_t g = guard("broadcast");
    double t0 = now(), elapsed = 0;
    while (elapsed < secs) {
        for (int i = 0; i < PER_ROUND; i++) {
            ENetPacket *pk = enet_packet_create(msg32, sizeof msg32, ENET_PACKET_FLAG_RELIABLE);
            if (!pk) fail("enet_packet_create");
            enet_host_broadcast(server, 0, pk);
        }
        drain(server, NULL);
        for (int i = 0; i < MAX_CLIENTS; i++) drain(clients[i], &s);
        check(&g);
        elapsed = now() - t0;
    }
    if (s.received == 0) fail("broadcast: nothing delivered");
    return s.received / elapsed;
}

static void broadcast(void) {
    ENetHost *server = host(MAX_CLIENTS);
    ENetHost *clients[MAX_CLIENTS];
    ENetPeer *cpeers[MAX_CLIENTS];
    for (int i = 0; i < MAX_CLIENTS; i++) clients[i] = host(1);
    connect_all(server, clients, MAX_CLIENTS, cpeers);
    broadcast_run(server, clients, 0.1 * seconds);
    report("broadcast_200", broadcast_run(server, clients, seconds), "msgs/s");
    for (int i = 0; i < MAX_CLIENTS; i++) enet_host_destroy(clients[i]);
    enet_host_destroy(server);
}

/* ---- bulk (bulk.lua) ---- */

#define SIZE (1024 * 1024)

static void transfer(pair_t *p, const unsigned char *payload) {
    ENetPacket *pk = enet_packet_create(payload, SIZE, ENET_PACKET_FLAG_RELIABLE);
    if (!pk || enet_peer_send(p->peer, 0, pk) < 0) fail("bulk send");
    sink_t s = { SINK_COUNT, 0, 0, NULL, SIZE };
    guard_t g = guard("bulk transfer");
    long rounds = 0;
    while (!s.received) {
        drain(p->client, NULL);
        drain(p->server, &s);
        rounds++;
        if (rounds % 64 == 0) check(&g);
    }
}

static double bulk_run(pair_t *p, const unsigned char *payload, double secs) {
    long n = 0;
    double t0 = now(), elapsed;
    do {
        transfer(p, payload);
        n++;
        elapsed = now() - t0;
    } while (elapsed < secs);
    return (double)n * SIZE / elapsed / 1e6;
}

static void bulk(void) {
    static unsigned char payload[SIZE];
    for (size_t i = 0; i < SIZE; i++) payload[i] = "0123456789abcdef"[i % 16];
    pair_t p = pair();
    bulk_run(&p, payload, 0.1 * seconds);
    report("bulk_1mib", bulk_run(&p, payload, seconds), "MB/s");
    destroy_pair(&p);
}

int main(int argc, char **argv) {
    const char *env = getenv("ENET_BENCH_SECONDS");
    if (env && atof(env) > 0) seconds = atof(env);
    if (enet_initialize() != 0) fail("enet_initialize");
    /* Optional argument: run only the named workload (pingpong, burst, calls, broadcast, bulk). */
    const char *only = argc > 1 ? argv[1] : NULL;
#define RUN(name, body) if (!only || strcmp(only, name) == 0) { body; }
    RUN("pingpong", pingpong());
    RUN("burst", {
        burst(ENET_PACKET_FLAG_RELIABLE, 0.1 * seconds);
        report("burst_reliable", burst(ENET_PACKET_FLAG_RELIABLE, seconds), "msgs/s");
        report("burst_unsequenced", burst(ENET_PACKET_FLAG_UNSEQUENCED, seconds), "msgs/s");
    });
    RUN("calls", calls());
    RUN("broadcast", broadcast());
    RUN("bulk", bulk());
    return 0;
}
