/* The server: our ENet (vendor/enet), its app, and the introspection the invariants need.
   Plain C: the harness (sim.c) sees no ENet type. */
#ifndef SIM_SERVER_H
#define SIM_SERVER_H
#include <stddef.h>
#include <stdint.h>
#include "simnet.h"

typedef struct {
    sim_ep   ep;
    size_t   slots, channelLimit, duplicatePeers;
    int      defence;          /* enet_host_connect_defence (enabled, recordLimit, connectTimeout) */
    size_t   recordLimit;
    uint32_t connectTimeout;
    int      checksum, compress;
    size_t   maxRecordLimit;   /* the largest record limit the run will set (INV-mem's bound) */
} server_config;

enum { EV_NONE = 0, EV_CONNECT = 1, EV_DISCONNECT = 2, EV_RECEIVE = 3 };

typedef struct {
    int      type;
    uint16_t slot;
    sim_ep   ep;
    uint32_t cid, data;
    uint8_t  channel;
    size_t   length;
} server_event;

int  server_create (const server_config * config);
void server_destroy (void);
/* One enet_host_service (host, & event, 0) call, and the app's answer to its event: every
   received packet is echoed reliably on its channel. Returns 1 if there was an event. */
int  server_service (server_event * event);
/* The app disconnects the pick-th connected peer (modulo their number); returns its slot or -1. */
int  server_kick (uint32_t pick);
int  server_meddle (uint32_t pick);
void server_set_defence (int enabled, size_t recordLimit, uint32_t timeout);

/* ---- introspection, one question each (server.c keeps them next to the structures they read) */
enum { PEER_FREE = 0, PEER_HANDSHAKE = 1, PEER_ESTABLISHED = 2, PEER_OTHER = 3 };
typedef struct { int kind, state; sim_ep ep; uint32_t cid, rtt; int unverified; } server_peer_info;

int      server_holds_handshake (sim_ep client, uint32_t cid, uint16_t slot, long * hint);
int      server_established (sim_ep client, uint32_t cid, uint16_t slot);
uint32_t server_round_trip_time (sim_ep client, uint32_t cid, uint16_t slot);
void     server_peer (uint16_t slot, server_peer_info * info);
size_t   server_slots (void);
int      server_defence_on (void);
uint32_t server_connect_timeout (void);
size_t   server_record_limit (void);
/* INV-work: the most records (live or ended) in one hash chain of the record table. */
size_t   server_longest_record_chain (void);
/* INV-index: the slot bitmaps and the endpoint index agree with the peers (0, and why, if not). */
int      server_index_consistent (char * why, size_t cap);
int      server_busy_consistent (char * why, size_t cap);
/* The live record for client, if any (for traces): its offered slot, or -1. */
int      server_record_slot (sim_ep client, uint32_t cid);
void     server_counters (char * out, size_t cap);
/* The same five counters as numbers: answered, evicted, expired, completed, dropped. */
void     server_counter_values (uint32_t out [5]);
size_t   server_memory_live (void);
size_t   server_memory_peak (void);
size_t   server_memory_bound (void);
/* The app's view: a CONNECT event not yet followed by a DISCONNECT event for that slot. */
int      server_app_connected (uint16_t slot, sim_ep * ep, uint32_t * cid);

#endif
