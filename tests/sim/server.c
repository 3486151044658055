/* The server of the simulation: our ENet, compiled from vendor/enet with platform_ours.c.
   This is the only file of the harness that sees our ENet's structures. The introspection
   functions at the end answer the invariants' questions about the handshake's state; whoever
   changes the handshake's structures (records, peers' flags) keeps them true. */
#include <stdio.h>
#include <string.h>
#include "enet/enet.h"
#include "enet/time.h"
#include "server.h"
#include "platform.h"

static ENetHost * host;
static server_config cfg;

/* ---- allocations: every byte ENet holds, for INV-mem (a size header before each block) ---- */
static size_t memLive, memPeak, memBase;

static void *
tracked_malloc (size_t size)
{
    size_t * block = malloc (size + 16);
    if (block == NULL) return NULL;
    block [0] = size;
    memLive += size;
    if (memLive > memPeak) memPeak = memLive;
    return (char *) block + 16;
}

static void
tracked_free (void * memory)
{
    if (memory == NULL) return;
    size_t * block = (size_t *) ((char *) memory - 16);
    memLive -= block [0];
    free (block);
}

size_t server_memory_live (void) { return memLive; }
size_t server_memory_peak (void) { return memPeak; }

/* INV-mem's bound: what the host holds once created, the largest record table the run sets
   (records and their hash chains; a resize holds two tables for a moment), the alias chains,
   and per slot its channels and 64 KB of traffic (the app's echoes in flight, a client's
   messages held, acknowledgements): a flood of forged datagrams must not grow anything beyond
   that. */
size_t
server_memory_bound (void)
{
    return memBase + 2 * cfg.maxRecordLimit * (sizeof (ENetConnectRecord) + sizeof (enet_uint32)) +
           2 * cfg.slots * sizeof (enet_uint32) +
           cfg.slots * (cfg.channelLimit * sizeof (ENetChannel) + 64 * 1024) + 256 * 1024;
}

/* ---- the app's view of who is connected, since a DISCONNECT event's peer is already reset */
typedef struct { int connected; sim_ep ep; uint32_t cid; } app_slot;
static app_slot * appSlots;
/* host -> serviceTime after the last enet_host_service (a flush moves serviceTime on too, but its
   send pass is never a full one): INV-busy's overdue full pass is measured from it. */
static enet_uint32 lastServiceTime;

static sim_ep
ep_of (const ENetAddress * a)
{
    sim_ep ep = { ((uint32_t) a -> host [12] << 24) | ((uint32_t) a -> host [13] << 16) | ((uint32_t) a -> host [14] << 8) | a -> host [15], a -> port };
    return ep;
}

static int
is (const ENetAddress * a, sim_ep ep)
{
    sim_ep mine = ep_of (a);
    return a -> host [10] == 0xFF && a -> host [11] == 0xFF && sim_ep_eq (mine, ep);
}

int
server_create (const server_config * config)
{
    ENetCallbacks callbacks = { tracked_malloc, tracked_free, NULL };
    ENetAddress address;

    cfg = * config;
    memLive = memPeak = 0;
    enet_initialize_with_callbacks (ENET_VERSION, & callbacks);
    memset (& address, 0, sizeof (address));
    sim_ours_address (& address, cfg.ep.ip, cfg.ep.port);
    host = enet_host_create (& address, cfg.slots, cfg.channelLimit, 0, 0);
    if (host == NULL) return -1;
    lastServiceTime = host -> serviceTime;
    /* host.c mixes the host's heap address into its seed (and so into the secret); replace
       both with the run's seeded values so that a seed replays exactly (checked by tests/sim.rs). */
    host -> randomSeed = sim_ours_platform_random ();
    enet_host_random_secret (host -> connectSecret, sizeof (host -> connectSecret) / sizeof (enet_uint32));
    host -> duplicatePeers = cfg.duplicatePeers;
    if (cfg.checksum) host -> checksum = enet_crc32;
    if (cfg.compress) enet_host_compress_with_range_coder (host);
    enet_host_connect_defence (host, cfg.defence, cfg.recordLimit, cfg.connectTimeout);
    memBase = memLive;
    appSlots = calloc (cfg.slots, sizeof (app_slot));
    return 0;
}

void
server_destroy (void)
{
    enet_host_destroy (host);
    host = NULL;
    free (appSlots);
    appSlots = NULL;
}

int
server_service (server_event * out)
{
    ENetEvent event;
    int r = enet_host_service (host, & event, 0);

    lastServiceTime = host -> serviceTime;

    memset (out, 0, sizeof (* out));
    if (r <= 0) return 0;
    out -> type = event.type;
    out -> slot = event.peer -> incomingPeerID;
    out -> channel = event.channelID;
    out -> data = event.data;
    switch (event.type)
    {
    case ENET_EVENT_TYPE_CONNECT:
       out -> ep = ep_of (& event.peer -> address);
       out -> cid = event.peer -> connectID;
       appSlots [out -> slot].connected = 1;
       appSlots [out -> slot].ep = out -> ep;
       appSlots [out -> slot].cid = out -> cid;
       break;
    case ENET_EVENT_TYPE_DISCONNECT:
       /* enet_peer_reset has run: who it was comes from the app's own record. */
       out -> ep = appSlots [out -> slot].ep;
       out -> cid = appSlots [out -> slot].cid;
       appSlots [out -> slot].connected = 0;
       break;
    case ENET_EVENT_TYPE_RECEIVE:
    {
       ENetPacket * echo = enet_packet_create (event.packet -> data, event.packet -> dataLength, ENET_PACKET_FLAG_RELIABLE);
       out -> ep = ep_of (& event.peer -> address);
       out -> cid = event.peer -> connectID;
       out -> length = event.packet -> dataLength;
       if (echo != NULL && enet_peer_send (event.peer, event.channelID, echo) < 0)
         enet_packet_destroy (echo);
       enet_packet_destroy (event.packet);
       break;
    }
    default:
       break;
    }
    return 1;
}

int
server_kick (uint32_t pick)
{
    size_t connected = 0, i;
    for (i = 0; i < host -> peerCount; ++ i)
      if (host -> peers [i].state == ENET_PEER_STATE_CONNECTED) ++ connected;
    if (connected == 0) return -1;
    pick %= connected;
    for (i = 0; i < host -> peerCount; ++ i)
      if (host -> peers [i].state == ENET_PEER_STATE_CONNECTED && pick -- == 0)
      {
         enet_peer_disconnect (& host -> peers [i], 0);
         return (int) i;
      }
    return -1;
}

/* --scenario meddle (attack review 2): the server app calls a peer method that changes no
   peer's state on a random slot in use, whatever its state (an unverified or aliased peer, a
   connecting or zombie one), or flushes the host. Returns the slot, or -1. */
int
server_meddle (uint32_t pick)
{
    size_t inUse = 0, i;
    uint32_t what = pick % 5, interval;

    pick /= 5;
    /* The ping interval set (review 5 of vendor patch 0038, which times the send pass's visits to
       idle peers by their pings): the default, pings never (the largest interval: stock ENet's
       wrapping time difference pings only after a day of silence), or 1-2000 ms. */
    interval = (pick / 7) % 3 == 0 ? 0 : (pick / 7) % 3 == 1 ? 0xFFFFFFFFu : 1 + (pick / 21) % 2000;
    for (i = 0; i < host -> peerCount; ++ i)
      if (host -> peers [i].state != ENET_PEER_STATE_DISCONNECTED) ++ inUse;
    if (inUse == 0) return -1;
    for (i = 0, pick %= inUse; i < host -> peerCount; ++ i)
      if (host -> peers [i].state != ENET_PEER_STATE_DISCONNECTED && pick -- == 0)
      {
         ENetPeer * peer = & host -> peers [i];
         switch (what)
         {
         case 0: enet_peer_throttle_configure (peer, 1000 + (uint32_t) i % 4000, 1 + (uint32_t) i % 7, 1 + (uint32_t) i % 5); break;
         case 1: enet_peer_ping (peer); break;
         case 2: enet_peer_timeout (peer, 0, 0, 0); break;
         case 3: enet_peer_ping_interval (peer, interval); break;
         default: enet_host_flush (host); break;
         }
         return (int) i;
      }
    return -1;
}

void
server_set_defence (int enabled, size_t recordLimit, uint32_t timeout)
{
    enet_host_connect_defence (host, enabled, recordLimit, timeout);
}

int
server_app_connected (uint16_t slot, sim_ep * ep, uint32_t * cid)
{
    if (slot >= cfg.slots || ! appSlots [slot].connected) return 0;
    * ep = appSlots [slot].ep;
    * cid = appSlots [slot].cid;
    return 1;
}

/* =====================================================================================
   INTROSPECTION. One question per function, read-only. Keep these true when the handshake's
   structures change (today: ENetPeer's state/address/connectID/alias and ENetConnectRecord).
   ===================================================================================== */

size_t server_slots (void) { return host -> peerCount; }
int server_defence_on (void) { return host -> connectDefence; }
uint32_t server_connect_timeout (void) { return host -> connectTimeout; }
size_t server_record_limit (void) { return host -> connectRecordLimit; }

size_t
server_longest_record_chain (void)
{
    size_t longest = 0;
    if (host -> connectRecords == NULL) return 0;
    for (size_t c = 0; c < host -> connectRecordLimit; ++ c)
    {
       size_t n = 0;
       for (enet_uint32 i = host -> connectRecordChains [c]; i != 0 && n <= host -> connectRecordLimit; i = host -> connectRecords [i - 1].next)
         ++ n;
       if (n > longest) longest = n;
    }
    return longest;
}

/* Is this record live? As enet_protocol_connect_record_live decides: made (startTime not 0)
   and younger than twice its lifetime (the connect timeout when it was made), its longest life (one whose client was heard
   ends after one timeout, when its client next sends or the sweep reaches it, telling it
   DISCONNECT); one whose client was heard until it is ended (vendor patch 0034). */
static int
record_live (const ENetConnectRecord * record)
{
    return record -> handshake.startTime != 0 &&
           (record -> handshake.heard ||
            ENET_TIME_DIFFERENCE (host -> serviceTime, record -> handshake.startTime) < 2 * record -> handshake.lifetime);
}

static uint16_t
record_slot (const ENetConnectRecord * record)
{
    return ENET_NET_TO_HOST_16 (record -> handshake.verify.outgoingPeerID);
}

/* The live record of (client, cid), or NULL. The table is scanned whole (it is small next to
   a run's work only when rarely asked); hint remembers where it was found last time. */
static const ENetConnectRecord *
find_record (sim_ep client, uint32_t cid, long * hint)
{
    if (host -> connectRecords == NULL) return NULL;
    if (hint != NULL && * hint >= 0 && (size_t) * hint < host -> connectRecordLimit)
    {
       const ENetConnectRecord * r = & host -> connectRecords [* hint];
       if (record_live (r) && r -> handshake.verify.connectID == cid && is (& r -> address, client)) return r;
    }
    for (size_t i = 0; i < host -> connectRecordLimit; ++ i)
    {
       const ENetConnectRecord * r = & host -> connectRecords [i];
       if (record_live (r) && r -> handshake.verify.connectID == cid && is (& r -> address, client))
       {
          if (hint != NULL) * hint = (long) i;
          return r;
       }
    }
    return NULL;
}

/* The peer that the client (client, cid) addresses as slot s: the one in slot s, or one in
   another slot with s as its alias (its record offered s, which was taken when it echoed). */
static const ENetPeer *
find_peer (sim_ep client, uint32_t cid, uint16_t slot)
{
    if (slot >= host -> peerCount) return NULL;
    if (is (& host -> peers [slot].address, client) && host -> peers [slot].connectID == cid)
      return & host -> peers [slot];
    for (size_t i = 0; i < host -> peerCount; ++ i)
    {
       const ENetPeer * peer = & host -> peers [i];
       if ((peer -> flags & ENET_PEER_FLAG_ALIASED) && peer -> connectAlias == slot &&
           is (& peer -> address, client) && peer -> connectID == cid)
         return peer;
    }
    return NULL;
}

/* INV-told: does the server hold handshake state for client endpoint E with connect ID cid,
   which addresses it as slot s? Either a peer it addresses as s (find_peer) with that address
   and connect ID in a state other than DISCONNECTED or ZOMBIE, or a live record for it that
   offers slot s. */
int
server_holds_handshake (sim_ep client, uint32_t cid, uint16_t slot, long * hint)
{
    const ENetConnectRecord * record;
    const ENetPeer * peer = find_peer (client, cid, slot);
    if (peer != NULL && peer -> state != ENET_PEER_STATE_DISCONNECTED && peer -> state != ENET_PEER_STATE_ZOMBIE)
      return 1;
    record = find_record (client, cid, hint);
    return record != NULL && record_slot (record) == slot;
}

/* For traces: the slot the live record of (client, cid) offers, or -1. */
int
server_record_slot (sim_ep client, uint32_t cid)
{
    const ENetConnectRecord * record = find_record (client, cid, NULL);
    return record != NULL ? record_slot (record) : -1;
}

static int
established_state (ENetPeerState state)
{
    return state == ENET_PEER_STATE_CONNECTION_PENDING || state == ENET_PEER_STATE_CONNECTION_SUCCEEDED ||
           state == ENET_PEER_STATE_CONNECTED || state == ENET_PEER_STATE_DISCONNECT_LATER;
}

/* Is the client established: the peer it addresses as slot s (find_peer) has completed the
   handshake (CONNECTION_PENDING, CONNECTION_SUCCEEDED, CONNECTED or DISCONNECT_LATER)? */
int
server_established (sim_ep client, uint32_t cid, uint16_t slot)
{
    const ENetPeer * peer = find_peer (client, cid, slot);
    return peer != NULL && established_state (peer -> state);
}

/* INV-rtt: the server's round-trip time for the peer the client addresses as slot s. */
uint32_t
server_round_trip_time (sim_ep client, uint32_t cid, uint16_t slot)
{
    const ENetPeer * peer = find_peer (client, cid, slot);
    return peer != NULL ? peer -> roundTripTime : 0;
}

/* A slot as the end-of-run checks and the traces see it. */
void
server_peer (uint16_t slot, server_peer_info * info)
{
    const ENetPeer * peer = & host -> peers [slot];
    memset (info, 0, sizeof (* info));
    info -> state = peer -> state;
    info -> kind = peer -> state == ENET_PEER_STATE_DISCONNECTED ? PEER_FREE :
                   established_state (peer -> state) ? PEER_ESTABLISHED :
                   peer -> state == ENET_PEER_STATE_ACKNOWLEDGING_CONNECT ? PEER_HANDSHAKE : PEER_OTHER;
    info -> ep = ep_of (& peer -> address);
    info -> cid = peer -> connectID;
    info -> rtt = peer -> roundTripTime;
    info -> unverified = (peer -> flags & ENET_PEER_FLAG_UNVERIFIED) != 0;
}

void
server_counters (char * out, size_t cap)
{
    snprintf (out, cap, "answered %u, records evicted %u, expired %u, completed %u, dropped %u",
              host -> connectsAnswered, host -> connectRecordsEvicted, host -> connectRecordsExpired,
              host -> connectsCompleted, host -> connectsDropped);
}

void
server_counter_values (uint32_t out [5])
{
    out [0] = host -> connectsAnswered; out [1] = host -> connectRecordsEvicted; out [2] = host -> connectRecordsExpired;
    out [3] = host -> connectsCompleted; out [4] = host -> connectsDropped;
}

/* INV-index: the host's bitmaps of its slots (free; free and reserved by a record; unverified)
   and its index of peers by endpoint say what the peers themselves say, since a CONNECT trusts
   them instead of walking the slots. Writes the first disagreement into why; returns 0 then. */
int
server_index_consistent (char * why, size_t cap)
{
    const enet_uint32 * freeBits = host -> slotBits,
                      * reservedBits = & host -> slotBits [host -> slotWords],
                      * unverifiedBits = & host -> slotBits [2 * host -> slotWords];
    size_t i, indexed = 0, chained = 0;

    for (i = 0; i < host -> peerCount; ++ i)
    {
       const ENetPeer * peer = & host -> peers [i];
       enet_uint32 bit = 1u << (i % 32);
       int isFree = peer -> state == ENET_PEER_STATE_DISCONNECTED,
           unverified = peer -> state == ENET_PEER_STATE_ACKNOWLEDGING_CONNECT && (peer -> flags & ENET_PEER_FLAG_UNVERIFIED);

       if (((freeBits [i / 32] & bit) != 0) != isFree ||
           ((reservedBits [i / 32] & bit) != 0) != (isFree && peer -> connectReservation != 0) ||
           ((unverifiedBits [i / 32] & bit) != 0) != unverified)
       {
          snprintf (why, cap, "slot %zu (state %d, reservation %u, flags %x): its bits say free %d reserved %d unverified %d",
                    i, (int) peer -> state, peer -> connectReservation, peer -> flags,
                    (freeBits [i / 32] & bit) != 0, (reservedBits [i / 32] & bit) != 0, (unverifiedBits [i / 32] & bit) != 0);
          return 0;
       }
       if (! isFree && ! (peer -> flags & ENET_PEER_FLAG_INDEXED))
       {
          snprintf (why, cap, "slot %zu is in use (state %d) but not in the endpoint index", i, (int) peer -> state);
          return 0;
       }
       if (peer -> flags & ENET_PEER_FLAG_INDEXED)
       {
          ++ indexed;
          if (peer -> endpointChain != enet_host_endpoint_chain (host, & peer -> address))
          {
             snprintf (why, cap, "slot %zu is indexed in chain %u, its endpoint %s hashes elsewhere",
                       i, peer -> endpointChain, sim_ep_str (ep_of (& peer -> address)));
             return 0;
          }
       }
    }
    for (i = 0; i < host -> endpointChainCount; ++ i)
    {
       size_t n = 0;
       for (enet_uint32 index = host -> endpointChains [i]; index != 0; index = host -> peers [index - 1].endpointNext)
       {
          const ENetPeer * peer;
          if (index > host -> peerCount || ++ n > host -> peerCount)
          {
             snprintf (why, cap, "endpoint chain %zu is broken (entry %u, %zu entries)", i, index, n);
             return 0;
          }
          peer = & host -> peers [index - 1];
          if (! (peer -> flags & ENET_PEER_FLAG_INDEXED) || peer -> endpointChain != i)
          {
             snprintf (why, cap, "endpoint chain %zu holds slot %u, which is not indexed there", i, index - 1);
             return 0;
          }
          ++ chained;
       }
    }
    if (chained != indexed)
    {
       snprintf (why, cap, "%zu peers are marked indexed, the endpoint chains hold %zu", indexed, chained);
       return 0;
    }
    return server_busy_consistent (why, cap);
}

/* INV-busy (vendor patch 0038): the send pass visits only busy and unverified peers except in a
   full pass, so every peer in use with anything queued or in flight must be marked busy, and an
   idle one's next ping must not fall due before the next full pass (or a full pass is due now). */
int
server_busy_consistent (char * why, size_t cap)
{
    const enet_uint32 * unverifiedBits = & host -> slotBits [2 * host -> slotWords],
                      * busyBits = & host -> slotBits [3 * host -> slotWords];
    enet_uint32 ahead = host -> nextFullSendPass - host -> serviceTime;
    int fullDue = ahead == 0 || ahead >= 0x80000000u || ahead > 1000;
    size_t i;

    for (i = 0; i < host -> peerCount; ++ i)
    {
       const ENetPeer * peer = & host -> peers [i];
       enet_uint32 bit = 1u << (i % 32), due, late;
       int marked = ((busyBits [i / 32] | unverifiedBits [i / 32]) & bit) != 0,
           work;

       if (peer -> state == ENET_PEER_STATE_DISCONNECTED || peer -> state == ENET_PEER_STATE_ZOMBIE)
         continue;
       work = ! enet_list_empty (& peer -> acknowledgements) ||
              ! enet_list_empty (& peer -> outgoingCommands) ||
              ! enet_list_empty (& peer -> outgoingSendReliableCommands) ||
              ! enet_list_empty (& peer -> sentReliableCommands) ||
              (peer -> flags & ENET_PEER_FLAG_CONTINUE_SENDING) ||
              peer -> state == ENET_PEER_STATE_DISCONNECT_LATER;
       if (work && ! marked)
       {
          snprintf (why, cap, "slot %zu (state %d) has work queued or in flight but is not marked busy", i, (int) peer -> state);
          return 0;
       }
       /* an interval of a day or more is left to the full pass every 1000 ms (vendor/enet/protocol.c
          enet_protocol_sync_busy) */
       due = peer -> lastReceiveTime + peer -> pingInterval;
       late = host -> nextFullSendPass - due;
       if (! work && ! marked && ! fullDue && late != 0 && late < 0x80000000u && peer -> pingInterval < ENET_TIME_OVERFLOW)
       {
          snprintf (why, cap, "slot %zu (state %d) is idle and its ping falls due at %u, the next full send pass is at %u (service time %u)",
                    i, (int) peer -> state, due, host -> nextFullSendPass, host -> serviceTime);
          return 0;
       }
    }
    /* The other way (review 5): the next full pass is the earliest ping of a verified idle peer.
       A full pass sends every ping that is due, and each due folded in after it is the ping of a
       peer idle since, so it is no earlier than that pass: after a service the next full pass is
       overdue only while the 10 ms minimum since the last one holds it back. One overdue for
       longer makes every service after that minimum a full pass: an unverified peer, which never
       pings (lastReceiveTime 0), set it to pingInterval after the clock's start, so that one
       forged CONNECT made the pass visit every peer every 10 ms; so did a peer whose ping
       interval is 2^31 ms or more, whose ping time wrapped into the past. Measured at the last
       enet_host_service: a flush since (meddle) moves serviceTime on without a full pass. */
    if (lastServiceTime - host -> nextFullSendPass < 0x80000000u &&
        lastServiceTime - host -> nextFullSendPass > 10)
    {
       snprintf (why, cap, "the next full send pass is at %u, %u ms before the last service at %u (last full pass %u)",
                 host -> nextFullSendPass, lastServiceTime - host -> nextFullSendPass, lastServiceTime, host -> lastFullSendPass);
       return 0;
    }
    return 1;
}
