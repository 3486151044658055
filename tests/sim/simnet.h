/* simnet: the deterministic world the ENet hosts of the simulation live in (tests/sim/README.md).
   A virtual clock, an in-memory UDP network with seeded impairments, per-endpoint traffic
   counters, a ring log of recent events and a seeded PRNG. It includes no ENet header: both
   ENets (ours in server.c, stock in client.c) reach it through their platform files. */
#ifndef SIM_SIMNET_H
#define SIM_SIMNET_H

#include <stddef.h>
#include <stdint.h>

/* ---- PRNG: xoshiro256** seeded through splitmix64 (never rand(): one seed, one run) ---- */
typedef struct { uint64_t s[4]; } sim_rng;
void     rng_seed (sim_rng * r, uint64_t seed);
uint64_t rng_next (sim_rng * r);
uint32_t rng_below (sim_rng * r, uint32_t n);          /* 0 .. n-1 (n > 0) */
uint32_t rng_range (sim_rng * r, uint32_t lo, uint32_t hi); /* lo .. hi inclusive */
int      rng_chance (sim_rng * r, double p);            /* true with probability p */
uint64_t splitmix64 (uint64_t * state);

/* ---- virtual clock, in ms; both ENets' enet_time_get read it ---- */
uint32_t simnet_now (void);
void     simnet_set_now (uint32_t now);

/* ---- endpoints and sockets ---- */
typedef struct { uint32_t ip; uint16_t port; } sim_ep;   /* ip in host byte order */
typedef struct { const void * data; size_t len; } sim_iov;

static inline int sim_ep_eq (sim_ep a, sim_ep b) { return a.ip == b.ip && a.port == b.port; }
const char * sim_ep_str (sim_ep e);                       /* rotating static buffers */

int  simnet_socket (void);                                /* a new unbound socket, or -1 */
int  simnet_bind (int sock, sim_ep ep);                   /* port 0: an ephemeral one; -1 if taken */
sim_ep simnet_local (int sock);
void simnet_close (int sock);
/* Puts a datagram on the wire from the socket's endpoint; returns its length. */
int  simnet_send (int sock, sim_ep dst, const sim_iov * iov, size_t count);
/* The next datagram that has arrived (delivery time <= now): its length (0: none, -2: larger
   than cap, skipped). */
int  simnet_receive (int sock, sim_ep * src, void * buf, size_t cap);
int  simnet_pending (int sock);
/* An off-path attacker's datagram with any source endpoint; kind is for the log. */
void simnet_inject (sim_ep src, sim_ep dst, const void * data, size_t len, const char * kind);

/* ---- impairments, drawn per seed; loss and duplication as probabilities ---- */
typedef struct { uint32_t delay, jitter; double loss, dup; } sim_impair;
void simnet_init (uint64_t seed, sim_impair impair);
void simnet_set_impair (sim_impair impair);
sim_impair simnet_impair (void);
void simnet_free (void);

/* ---- traffic counters, per ordered pair of endpoints, on the wire (before decompression):
   sent = put on the wire by src (or injected with src as source), got = read by dst's host. */
typedef struct {
   uint64_t sentBytes, sentDatagrams, gotBytes, gotDatagrams;
   uint32_t firstGot, lastGot;        /* when dst first and last read a datagram from src */
   uint32_t gotBefore;                /* the last time before lastGot's (a step is one instant) */
   int      gotAny;
} sim_pair;
const sim_pair * simnet_pair (sim_ep src, sim_ep dst);    /* NULL: never any traffic */
uint64_t simnet_dropped_full (void);                      /* datagrams lost to full inboxes */

/* A hook the harness sets to watch every datagram a given endpoint sends (the server's, decoded
   for INV-told and INV-reflect) and every datagram a given endpoint reads. */
typedef void (* simnet_watch_fn) (int sent, sim_ep src, sim_ep dst, const uint8_t * data, size_t len);
void simnet_watch (sim_ep ep, simnet_watch_fn fn);

/* ---- ring log of recent events, and a hash of every event logged (replay check) ---- */
enum { SIMLOG_SEND = 1, SIMLOG_LOST, SIMLOG_DUP, SIMLOG_INJECT, SIMLOG_RECV, SIMLOG_NOTE };
void simlog_note (const char * fmt, ...) __attribute__ ((format (printf, 1, 2)));
/* Prints the last n events; decode formats a datagram (may be NULL). */
typedef void (* simlog_decode_fn) (sim_ep src, sim_ep dst, const uint8_t * data, size_t len, char * out, size_t cap);
void simlog_print (int n, simlog_decode_fn decode);
uint64_t simlog_hash (void);
uint64_t simlog_count (void);
extern int simlog_verbose;                                 /* print every event as it happens */
extern simlog_decode_fn simlog_decoder;

#endif
