/* sim: a deterministic simulation of ENet's handshake under a forged-CONNECT flood (docs/handshake.md).
   Our ENet (vendor/enet, server.c) serves stock ENet clients (vendor/enet/upstream, client.c)
   and off-path attackers (attack.c) over simnet, in virtual time, one seed per run. Each seed
   draws a configuration and runs a schedule; the invariants are checked after every step (one
   host service call or one injected datagram); a quiet phase ends the run. See README.md.

   Usage: sim [--seed S | --seeds A-B | --list S,S,... | --fresh K] [--verbose] [--quick] [--trace N]
              [--reports K] [--join-bound MS] [--join-attempts N] [--stats] [--scenario pile|meddle] [--clock-start MS] */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "attack.h"
#include "client.h"
#include "platform.h"
#include "server.h"
#include "simnet.h"
#include "wire.h"

/* ================================================================ configuration */

enum { MAX_CONN_PER_CLIENT = 3, MAX_TOGGLES = 4, MAX_ATTEMPTS = 5 };

typedef struct { uint32_t time; int enabled; size_t recordLimit; uint32_t timeout; } toggle;

typedef struct {
    size_t   slots, channelLimit, duplicatePeers, recordLimit;
    int      defence, checksum, compress;
    uint32_t connectTimeout, serverFrame;
    sim_impair net;
    int      clients, conns, burst;
    attack_config attack;
    int      attacking;
    toggle   toggles [MAX_TOGGLES];
    int      toggleCount;
    double   kickRate;                 /* the server app's disconnects of a random peer, per s */
    uint32_t activeMs, quietCapMs;
    /* which end-of-run and join checks apply (see README.md, "Interpretations") */
    int      liveApplies, joinApplies, timeoutCoversRtt, stockUnderAttack;
    char     joinWhy [160];
} config;

static const size_t recordLimits [] = { 0, 4, 8, 64, 32768 };
static const uint32_t timeouts [] = { 500, 1000, 5000 };

/* Options */
static int quick, reports = 1, traceEvents = 60, printStats;
/* --scenario pile: ATK_PILE on (attack review, finding 1); no other scenario changes a draw */
static int scenarioPile;
/* --scenario meddle (attack review 2): the server app calls, 50 times a second, a method that
   changes no state on a random peer in use (server_meddle); no draw changes */
static int scenarioMeddle;
/* --clock-start MS: our ENet's clock (enet_time_get) reads MS at virtual time 0, so that a run
   crosses the wrap of its 32-bit ms clock (the harness's own clock is unchanged); no draw changes */
static uint32_t clockStart;
static uint32_t joinBoundMs = 5000;
static int joinBoundAttempts = MAX_ATTEMPTS;

/* ================================================================ world state */

typedef struct {
    int      handle;
    sim_ep   ep;
    int      peers, firstConn, connCount;
    uint32_t frame, start;
    size_t   channels;
    /* the server's recent DISCONNECT datagrams to this endpoint (INV-told) */
    struct { uint32_t time; size_t length; uint8_t bytes [96]; } disconnects [8];
    int      disconnectNext;
} client_host;

enum { P_IDLE, P_CONNECTING, P_TOLD, P_ESTABLISHED };
static const char * const phaseNames [] = { "idle", "connecting", "told", "established" };

typedef struct {
    int      id, client;
    int      wants, leaveAfter, exhausted;
    int      attempts, inEpisode;
    uint32_t episodeStart, nextAttempt;
    int      phase, active;
    uint16_t peer, slot;
    uint32_t cid;
    uint8_t  inSession, outSession;
    uint32_t channels;         /* the connection's channels (the server may allow fewer than asked) */
    uint32_t toldAt, establishedAt, firstVerifyAt, lastHeld;
    uint32_t heardAt, heardBefore; /* when the server last read a datagram of this connection (to its slot) */
    uint32_t lifetime;             /* the server's connect timeout when it first answered: the handshake's own */
    int      verifySeen, toldDone, heardAny;
    uint32_t counters [5];     /* the server's handshake counters when its state was last seen */
    int      configChanged;    /* a toggle happened since */
    long     hint;
    uint32_t msgInterval, nextMsg, sent, echoed, lastEcho [4], quietMark;
    int      quietEchoed;
    int      joins;
    char     history [12][112];
    int      historyCount;
} conn;

static config cfg;
static uint64_t seed;
static sim_rng appRng;
static sim_ep serverEp;
static client_host * clients;
static conn * conns;
static int quiet, failed;
static uint32_t quietStart, defenceOnSince;
static int defenceEverOff;
static uint64_t steps, serverSteps;
static char failWhat [64], failDetail [2048];
static int failedConn = -1;

/* statistics across the seeds of one invocation */
/* attacked: 0 no attacker in the run, 1 under attack, 2 in the quiet phase after one */
typedef struct { uint32_t ms; int attempts, lossless, attacked; } join_sample;
static join_sample * joinSamples;
static size_t joinCount, joinCap;
static double worstReflect, worstReflectDatagrams, worstMemory;

/* endpoints: honest ones (-> client index) and the ones ever established on the server */
typedef struct { uint64_t key; int value; } ep_entry;
typedef struct { ep_entry * slots; size_t cap, count; } ep_map;
static ep_map honestMap, establishedSet;
static sim_ep * dirty;               /* endpoints the server sent to in this step (INV-reflect) */
static size_t dirtyCount, dirtyCap;

static uint64_t key_of (sim_ep e) { return ((uint64_t) e.ip << 16 | e.port) + 1; }

static int *
map_find (ep_map * m, sim_ep e, int create)
{
    uint64_t k = key_of (e);
    if (m -> cap == 0 || (create && (m -> count + 1) * 2 > m -> cap))
    {
       ep_entry * old = m -> slots;
       size_t oldCap = m -> cap;
       m -> cap = m -> cap ? m -> cap * 2 : 256;
       m -> slots = calloc (m -> cap, sizeof (ep_entry));
       m -> count = 0;
       for (size_t i = 0; i < oldCap; ++ i)
         if (old [i].key)
         {
            size_t j = (old [i].key * 0x9E3779B97F4A7C15ULL >> 20) & (m -> cap - 1);
            while (m -> slots [j].key) j = (j + 1) & (m -> cap - 1);
            m -> slots [j] = old [i];
            ++ m -> count;
         }
       free (old);
    }
    size_t i = (k * 0x9E3779B97F4A7C15ULL >> 20) & (m -> cap - 1);
    for (;; i = (i + 1) & (m -> cap - 1))
    {
       if (m -> slots [i].key == k) return & m -> slots [i].value;
       if (m -> slots [i].key == 0)
       {
          if (! create) return NULL;
          m -> slots [i].key = k;
          ++ m -> count;
          return & m -> slots [i].value;
       }
    }
}

static void map_clear (ep_map * m) { free (m -> slots); m -> slots = NULL; m -> cap = m -> count = 0; }

static int is_honest (sim_ep e) { return map_find (& honestMap, e, 0) != NULL; }

/* ================================================================ failure reporting */

static void
history (conn * c, const char * fmt, ...)
{
    va_list ap;
    char * line;
    if (c -> historyCount == 12)
    {
       memmove (c -> history [1], c -> history [2], 10 * sizeof (c -> history [0]));
       c -> historyCount = 11;
       snprintf (c -> history [0], sizeof (c -> history [0]), "...");
    }
    line = c -> history [c -> historyCount ++];
    int n = snprintf (line, sizeof (c -> history [0]), "%8u  ", simnet_now ());
    va_start (ap, fmt);
    vsnprintf (line + n, sizeof (c -> history [0]) - n, fmt, ap);
    va_end (ap);
}

static void
fail (const char * what, int connIndex, const char * fmt, ...)
{
    va_list ap;
    if (failed) return;
    failed = 1;
    failedConn = connIndex;
    snprintf (failWhat, sizeof (failWhat), "%s", what);
    va_start (ap, fmt);
    vsnprintf (failDetail, sizeof (failDetail), fmt, ap);
    va_end (ap);
    simlog_note ("INVARIANT BROKEN: %s", what);
}

static const char *
conn_name (const conn * c)
{
    static char buf [4][96];
    static int next;
    char * b = buf [next ++ & 3];
    snprintf (b, 96, "conn %d (client %d %s peer %u cid %08x)", c -> id, c -> client, sim_ep_str (clients [c -> client].ep), c -> peer, c -> cid);
    return b;
}

static void
describe_config (FILE * out)
{
    fprintf (out, "config: slots %zu, channels %zu, duplicate peers %zu, defence %s, record limit %zu, connect timeout %u ms, "
             "checksum %d, range coder %d, server frame %u ms\n",
             cfg.slots, cfg.channelLimit, cfg.duplicatePeers, cfg.defence ? "on" : "off", cfg.recordLimit,
             cfg.connectTimeout, cfg.checksum, cfg.compress, cfg.serverFrame);
    fprintf (out, "        network: delay %u ms, jitter %u ms, loss %.1f%%, duplication %.1f%%; %d client hosts, %d connections%s; "
             "active %u ms, kicks %.2f/s\n",
             cfg.net.delay, cfg.net.jitter, cfg.net.loss * 100, cfg.net.dup * 100, cfg.clients, cfg.conns,
             cfg.burst ? " (a burst)" : "", cfg.activeMs, cfg.kickRate);
    fprintf (out, "        attack:");
    if (! cfg.attacking) fprintf (out, " none");
    for (int k = 0; k < ATK_KINDS; ++ k)
      if (cfg.attack.rate [k] > 0) fprintf (out, " %s %.1f/s", attack_names [k], cfg.attack.rate [k]);
    if (cfg.attacking)
      fprintf (out, "; victim IP share %.2f, client peer IDs %s, up to %d ACKs a datagram",
               cfg.attack.victimShare, cfg.attack.peerIdMode == 0 ? "0-3" : cfg.attack.peerIdMode == 1 ? "0xFFF" : "mixed", cfg.attack.acksPerDatagram);
    fprintf (out, "\n        toggles:");
    if (cfg.toggleCount == 0) fprintf (out, " none");
    for (int i = 0; i < cfg.toggleCount; ++ i)
      fprintf (out, " [at %u: defence %s, records %zu, timeout %u]", cfg.toggles [i].time,
               cfg.toggles [i].enabled ? "on" : "off", cfg.toggles [i].recordLimit, cfg.toggles [i].timeout);
    fprintf (out, "\n        INV-live %s; INV-join %s\n",
             cfg.liveApplies ? "applies" : cfg.stockUnderAttack ? "does not apply (stock handshakes under attack)" :
             cfg.timeoutCoversRtt ? "does not apply (slots or duplicate peers short)" : "does not apply (connect timeout under a round trip)",
             cfg.joinApplies ? "applies" : cfg.joinWhy);
}

static void
report_failure (void)
{
    printf ("\n==== seed %" PRIu64 ": %s broken at %u ms (step %" PRIu64 ")\n", seed, failWhat, simnet_now (), steps);
    printf ("%s\n", failDetail);
    describe_config (stdout);
    if (failedConn >= 0)
    {
       conn * c = & conns [failedConn];
       printf ("history of %s:\n", conn_name (c));
       for (int i = 0; i < c -> historyCount; ++ i) printf ("  %s\n", c -> history [i]);
    }
    {
       char counters [256];
       server_counters (counters, sizeof (counters));
       printf ("server: %s\n", counters);
    }
    printf ("last %d events:\n", traceEvents);
    simlog_print (traceEvents, wire_format);
    printf ("replay: sim --seed %" PRIu64 " --verbose\n", seed);
}

/* ================================================================ configuration draw */

/* lo .. hi, uniform in the logarithm (rates spread over orders of magnitude) */
static double
log_uniform (sim_rng * r, double lo, double hi)
{
    double u = (double) (rng_next (r) >> 11) / 9007199254740992.0;
    return lo * exp (u * log (hi / lo));
}

static void
draw_config (sim_rng * r)
{
    double p;
    memset (& cfg, 0, sizeof (cfg));

    p = rng_chance (r, 1) ? (double) rng_below (r, 1000) / 1000 : 0;
    if (p < 0.10) cfg.slots = 1;
    else if (p < 0.55) cfg.slots = rng_range (r, 2, 8);
    else if (p < 0.80) cfg.slots = rng_chance (r, 0.5) ? 16 : 64;
    else if (p < 0.97) cfg.slots = rng_range (r, 9, 32);
    else cfg.slots = rng_range (r, 1016, 4095);

    cfg.channelLimit = rng_chance (r, 0.8) ? rng_range (r, 1, 4) : rng_range (r, 1, 255);
    cfg.defence = rng_chance (r, 0.85);
    {
       uint32_t q = rng_below (r, 10);
       cfg.recordLimit = recordLimits [q < 1 ? 0 : q < 2 ? 1 : q < 3 ? 2 : q < 5 ? 3 : 4];
    }
    {
       uint32_t q = rng_below (r, 10);
       cfg.connectTimeout = timeouts [q < 2 ? 0 : q < 5 ? 1 : 2];
    }
    {
       uint32_t q = rng_below (r, 10);
       cfg.duplicatePeers = q < 3 ? 1 : q < 5 ? 2 : 4095;
    }
    cfg.checksum = rng_chance (r, 0.25);
    cfg.compress = rng_chance (r, 0.25);
    cfg.serverFrame = rng_range (r, 1, 20);

    cfg.net.delay = rng_chance (r, 0.3) ? rng_range (r, 0, 10) : rng_range (r, 0, 200);
    cfg.net.jitter = rng_chance (r, 0.5) ? 0 : rng_range (r, 0, cfg.net.delay + 10);
    cfg.net.loss = rng_chance (r, 0.45) ? 0 : (double) rng_range (r, 1, 200) / 1000;
    cfg.net.dup = rng_chance (r, 0.6) ? 0 : (double) rng_range (r, 1, 50) / 1000;

    /* Honest clients: mostly fewer connections than slots (so that INV-live and INV-join
       apply), sometimes more; sometimes a burst of hundreds joining within a few ms. */
    if (cfg.slots >= 1016 || rng_chance (r, 0.02))
    {
       cfg.burst = 1;
       cfg.clients = (int) rng_range (r, 100, cfg.slots >= 1016 ? 400 : 250);
       if (cfg.slots < 1016) cfg.slots = rng_chance (r, 0.8) ? (size_t) cfg.clients * 3 + 8 : (size_t) cfg.clients / 2;
    }
    else
      cfg.clients = (int) rng_range (r, 1, cfg.slots <= 2 ? 2 : 6);

    cfg.activeMs = quick ? rng_range (r, 3000, 8000) : rng_range (r, 5000, 20000);
    if (cfg.burst || cfg.slots >= 1016) cfg.activeMs = rng_range (r, 3000, 6000);
    cfg.quietCapMs = 120000;

    /* Attackers */
    cfg.attacking = rng_chance (r, 0.8);
    if (cfg.attacking)
    {
       for (int k = 0; k < ATK_KINDS; ++ k)
       {
          if (k == ATK_PILE) continue;   /* only in --scenario pile, after every draw */
          if (k == ATK_COMPRESSED && ! cfg.compress) continue;
          if (rng_chance (r, 0.4)) cfg.attack.rate [k] = log_uniform (r, 1, 200);
       }
       if (cfg.attack.rate [ATK_CONNECT] > 0 && rng_chance (r, 0.1)) cfg.attack.rate [ATK_CONNECT] = log_uniform (r, 200, 2000);
       cfg.attack.victimShare = rng_chance (r, 0.3) ? 0 : (double) rng_range (r, 20, 80) / 100;
       cfg.attack.peerIdMode = (int) rng_below (r, 3);
       cfg.attack.acksPerDatagram = rng_chance (r, 0.8) ? (int) rng_range (r, 1, 8) : 64;
       cfg.attacking = 0;
       for (int k = 0; k < ATK_KINDS; ++ k) if (cfg.attack.rate [k] > 0) cfg.attacking = 1;
    }

    /* Mid-run changes of the defence's switch, record limit and timeout */
    if (rng_chance (r, 0.3))
    {
       cfg.toggleCount = (int) rng_range (r, 1, 3);
       int enabled = cfg.defence;
       size_t limit = cfg.recordLimit;
       uint32_t timeout = cfg.connectTimeout;
       for (int i = 0; i < cfg.toggleCount; ++ i)
       {
          switch (rng_below (r, 3))
          {
          case 0: enabled = ! enabled; break;
          case 1: limit = recordLimits [rng_below (r, 5)]; break;
          default: timeout = timeouts [rng_below (r, 3)]; break;
          }
          cfg.toggles [i].time = rng_range (r, 500, cfg.activeMs);
          cfg.toggles [i].enabled = enabled;
          cfg.toggles [i].recordLimit = limit;
          cfg.toggles [i].timeout = timeout;
       }
       /* in time order */
       for (int i = 0; i < cfg.toggleCount; ++ i)
         for (int j = i + 1; j < cfg.toggleCount; ++ j)
           if (cfg.toggles [j].time < cfg.toggles [i].time)
           {
              uint32_t t = cfg.toggles [i].time;
              cfg.toggles [i].time = cfg.toggles [j].time;
              cfg.toggles [j].time = t;
           }
    }
    cfg.kickRate = rng_chance (r, 0.5) ? 0 : (double) rng_range (r, 5, 50) / 100;

    /* --scenario pile: one forged endpoint piles ended records into its hash chain, at 1,000
       datagrams/s, against the default table with the defence on throughout, while forged
       CONNECTs from random sources keep the host under pressure (so that CONNECTs get
       records). Drawn after everything else, so every other seed means what it meant. */
    if (scenarioPile)
    {
       cfg.defence = 1;
       cfg.recordLimit = 32768;
       cfg.toggleCount = 0;
       cfg.attacking = 1;
       cfg.attack.rate [ATK_PILE] = 1000;
       if (cfg.attack.rate [ATK_CONNECT] < 100) cfg.attack.rate [ATK_CONNECT] = 100;
    }
}

/* Which end-of-run checks apply, once the clients are laid out. INV-join also needs a
   lossless network (with loss, stock ENet's own backoff makes any fixed bound a matter of
   luck), the defence on throughout whenever CONNECTs are forged (off is stock ENet, which a
   flood locks by design), and a record table at least 8 times the forged handshakes alive at
   once (a smaller table is a deliberate limit). */
static void
decide_checks (void)
{
    int perIpOk = 1, always = cfg.defence;
    double connects = cfg.attack.rate [ATK_CONNECT] + cfg.attack.rate [ATK_CONNECT_ACKS] + cfg.attack.rate [ATK_COMPRESSED];
    for (int i = 0; i < cfg.conns && perIpOk; ++ i)
    {
       int same = 0;
       for (int j = 0; j < cfg.conns; ++ j)
         if (clients [conns [j].client].ep.ip == clients [conns [i].client].ep.ip) ++ same;
       if ((size_t) same > cfg.duplicatePeers) perIpOk = 0;
    }
    /* A connect timeout shorter than a handshake's round trip (client frame, two network
       crossings each way at most delay + jitter, server frame) lets no unverified handshake
       complete: a configuration the end-of-run checks cannot expect anything of. */
    uint32_t shortest = cfg.connectTimeout;
    for (int i = 0; i < cfg.toggleCount; ++ i)
      if (cfg.toggles [i].timeout < shortest) shortest = cfg.toggles [i].timeout;
    cfg.timeoutCoversRtt = shortest >= 4 * (cfg.net.delay + cfg.net.jitter) + 2 * 50 + 2 * cfg.serverFrame;
    cfg.liveApplies = (size_t) cfg.conns <= cfg.slots && perIpOk && cfg.timeoutCoversRtt;
    for (int i = 0; i < cfg.toggleCount; ++ i) if (! cfg.toggles [i].enabled) always = 0;
    /* With the defence off, a blind attacker completes stock ENet's handshake (its sent time is a
       clock) and its peers hold slots: nothing can be expected of honest joins then. */
    cfg.stockUnderAttack = cfg.attacking && ! always;
    if (cfg.stockUnderAttack) cfg.liveApplies = 0;
    size_t smallestLimit = cfg.recordLimit;
    uint32_t longest = cfg.connectTimeout;
    for (int i = 0; i < cfg.toggleCount; ++ i)
    {
       if (cfg.toggles [i].recordLimit < smallestLimit) smallestLimit = cfg.toggles [i].recordLimit;
       if (cfg.toggles [i].timeout > longest) longest = cfg.toggles [i].timeout;
    }
    cfg.joinApplies = 0;
    if (! cfg.liveApplies) snprintf (cfg.joinWhy, sizeof (cfg.joinWhy), "does not apply");
    else if (cfg.net.loss > 0) snprintf (cfg.joinWhy, sizeof (cfg.joinWhy), "does not apply (lossy network)");
    else if (connects > 0 && ! always) snprintf (cfg.joinWhy, sizeof (cfg.joinWhy), "does not apply (forged CONNECTs with the defence off at times)");
    else if (connects > 0 && (double) smallestLimit < 8 * connects * longest / 1000.0)
      snprintf (cfg.joinWhy, sizeof (cfg.joinWhy), "does not apply (record table under 8x the forged handshakes alive)");
    else cfg.joinApplies = 1;
}

/* ================================================================ the server's datagrams */

/* The server read a datagram from src: for the connections of that client host that address
   the slot in its header with their session, that is the server hearing from them (INV-told
   allows a silent drop only after the connection itself, not its host, has been silent). */
static void
server_heard (sim_ep src, const uint8_t * data, size_t length)
{
    static wire_datagram d;
    uint32_t now = simnet_now ();
    int * client = map_find (& honestMap, src, 0);
    if (client == NULL || ! wire_parse (data, length, & d)) return;
    client_host * h = & clients [* client];
    for (int j = h -> firstConn; j < h -> firstConn + h -> connCount; ++ j)
    {
       conn * c = & conns [j];
       if (! c -> active || c -> phase != P_TOLD || c -> slot != d.peerID || c -> outSession != d.session) continue;
       if (c -> heardAt != now) c -> heardBefore = c -> heardAny ? c -> heardAt : 0;
       c -> heardAt = now;
       c -> heardAny = 1;
    }
}

/* Every datagram the server sends: its destination is checked for INV-reflect at the end of
   the step; one to an honest client is decoded for what INV-told needs (the VERIFY_CONNECTs
   offered to each connect ID, the DISCONNECTs sent). */
static void
server_watch (int sentByServer, sim_ep src, sim_ep dst, const uint8_t * data, size_t length)
{
    static wire_datagram d;
    int * client;
    if (! sentByServer)
    {
       server_heard (src, data, length);
       return;
    }
    if (dirtyCount == dirtyCap)
    {
       dirtyCap = dirtyCap ? dirtyCap * 2 : 64;
       dirty = realloc (dirty, dirtyCap * sizeof (sim_ep));
    }
    dirty [dirtyCount ++] = dst;
    client = map_find (& honestMap, dst, 0);
    if (client == NULL || ! wire_parse (data, length, & d)) return;
    client_host * h = & clients [* client];
    for (int i = 0; i < d.commandCount; ++ i)
    {
       const wire_command * c = & d.commands [i];
       if (c -> number == CMD_VERIFY_CONNECT)
       {
          uint32_t cid = raw32 (c -> at + 40);
          for (int j = h -> firstConn; j < h -> firstConn + h -> connCount; ++ j)
            if (conns [j].active && conns [j].cid == cid)
            {
               if (! conns [j].verifySeen)
               {
                  conns [j].verifySeen = 1;
                  conns [j].firstVerifyAt = simnet_now ();
                  conns [j].lifetime = server_connect_timeout ();
                  server_counter_values (conns [j].counters);
               }
               history (& conns [j], "server sends VERIFY_CONNECT: slot %u, sessions %u/%u, sent time %u%s",
                        rd16 (c -> at + 4), c -> at [6], c -> at [7], d.sentTime, d.compressed ? " (compressed)" : "");
            }
       }
       else if (c -> number == CMD_DISCONNECT && length <= sizeof (h -> disconnects [0].bytes))
       {
          int k = h -> disconnectNext ++ & 7;
          h -> disconnects [k].time = simnet_now ();
          h -> disconnects [k].length = length;
          memcpy (h -> disconnects [k].bytes, data, length);
       }
    }
}

/* INV-told's second way out: a DISCONNECT the server sent to the client's endpoint, after it
   began answering this handshake, that the client would take: its peer index, the session it
   checks and (with checksums) its connect ID. */
static int
disconnect_sent (const conn * c)
{
    static wire_datagram d;
    const client_host * h = & clients [c -> client];
    for (int k = 0; k < 8; ++ k)
    {
       if (h -> disconnects [k].length == 0 || ! c -> verifySeen || (int32_t) (h -> disconnects [k].time - c -> firstVerifyAt) < 0) continue;
       if (! wire_parse (h -> disconnects [k].bytes, h -> disconnects [k].length, & d)) continue;
       if (d.peerID != c -> peer || d.session != c -> inSession || ! wire_checksum_ok (& d, c -> cid)) continue;
       for (int i = 0; i < d.commandCount; ++ i)
         if (d.commands [i].number == CMD_DISCONNECT) return 1;
    }
    return 0;
}

/* ================================================================ invariants */

static void
on_join (conn * c)
{
    uint32_t ms = simnet_now () - c -> episodeStart;
    c -> phase = P_ESTABLISHED;
    c -> establishedAt = simnet_now ();
    ++ c -> joins;
    * map_find (& establishedSet, clients [c -> client].ep, 1) = 1;
    history (c, "established on the server in slot %u (joined in %u ms, attempt %d)", c -> slot, ms, c -> attempts);
    simlog_note ("%s established in slot %u, %u ms after its episode began, attempt %d", conn_name (c), c -> slot, ms, c -> attempts);
    if (joinCount == joinCap)
    {
       joinCap = joinCap ? joinCap * 2 : 1024;
       joinSamples = realloc (joinSamples, joinCap * sizeof (join_sample));
    }
    joinSamples [joinCount].ms = ms;
    joinSamples [joinCount].attempts = c -> attempts;
    joinSamples [joinCount].lossless = cfg.net.loss == 0;
    joinSamples [joinCount].attacked = ! cfg.attacking ? 0 : quiet ? 2 : 1;
    ++ joinCount;
    if (cfg.joinApplies && (ms > joinBoundMs || c -> attempts > joinBoundAttempts))
      fail ("INV-join", c -> id, "%s joined after %u ms and %d attempts (bound: %u ms, %d attempts)",
            conn_name (c), ms, c -> attempts, joinBoundMs, joinBoundAttempts);
    c -> inEpisode = 0;
}

/* Another connection of c's client host (same address and port) that addresses the server's
   same slot id with the same session, and that the server no longer stands behind (it was told
   DISCONNECT, which was lost, or it was forgotten unheard): its late datagrams reach c's peer,
   because ENet tells connections apart only by endpoint, peer id and session. The handshake
   avoids this (it never offers an id that the endpoint's live handshakes or peers use, and skips
   the sessions of the last heard or aliased-away connection of an id), but two bits remember
   one connection, as stock ENet remembers one per slot. Such a collision is counted, not failed
   (docs/handshake.md, "Known limits"). */
static int twinCollisions;

static const conn *
stale_twin (const conn * c)
{
    const client_host * h = & clients [c -> client];
    for (int j = h -> firstConn; j < h -> firstConn + h -> connCount; ++ j)
    {
       const conn * o = & conns [j];
       if (o == c || ! o -> active || (o -> phase != P_TOLD && o -> phase != P_ESTABLISHED)) continue;
       if (o -> slot != c -> slot || o -> outSession != c -> outSession) continue;
       if (server_established (h -> ep, o -> cid, o -> slot) || server_holds_handshake (h -> ep, o -> cid, o -> slot, NULL)) continue;
       return o;
    }
    return NULL;
}

/* INV-told: a client is told `connect` only if the server has a peer for it. From the
   client's connect event until the server has it established (or the client ends it), the
   server holds its state, or has sent it a DISCONNECT it would take, or dropped its state
   silently only after hearing nothing from the connection (on its slot) for the connect timeout
   in force. */
static void
check_told (conn * c)
{
    const client_host * h = & clients [c -> client];
    uint32_t now = simnet_now (), timeout, heardAt;

    if (c -> phase != P_TOLD || c -> toldDone) return;
    if (server_established (h -> ep, c -> cid, c -> slot)) { on_join (c); return; }
    if (server_holds_handshake (h -> ep, c -> cid, c -> slot, & c -> hint))
    {
       c -> lastHeld = now;
       server_counter_values (c -> counters);
       c -> configChanged = 0;
       return;
    }
    if (disconnect_sent (c))
    {
       c -> toldDone = 1;
       history (c, "server has no state for it, and has sent it a DISCONNECT");
       return;
    }
    /* A handshake keeps the connect timeout in force when it began. */
    timeout = c -> verifySeen ? c -> lifetime : server_connect_timeout ();
    /* What the server had heard of this connection (datagrams to its slot; its host's other
       connections are not it) when it dropped the state: a datagram read in this very step
       (virtual time stands still within one) may have come after the drop, so it is given the
       benefit of the doubt. */
    heardAt = ! c -> heardAny ? 0 : c -> heardAt != now ? c -> heardAt : c -> heardBefore;
    if (heardAt == 0 || now - heardAt >= timeout)
    {
       c -> toldDone = 1;
       history (c, "server dropped its state silently after %u ms without a datagram from it (timeout %u): stock-equivalent expiry",
                now - heardAt, timeout);
       return;
    }
    {
       server_peer_info info;
       int recordSlot = server_record_slot (h -> ep, c -> cid);
       char slotText [160] = "", changes [200];
       uint32_t counters [5];
       server_counter_values (counters);
       snprintf (changes, sizeof (changes), "since then: answered +%u, records evicted +%u, expired +%u, completed +%u, dropped +%u%s",
                 counters [0] - c -> counters [0], counters [1] - c -> counters [1], counters [2] - c -> counters [2],
                 counters [3] - c -> counters [3], counters [4] - c -> counters [4], c -> configChanged ? ", configuration changed" : "");
       if (c -> slot < server_slots ())
       {
          server_peer (c -> slot, & info);
          snprintf (slotText, sizeof (slotText), "server slot %u now: state %d, %s, cid %08x%s", c -> slot, info.state,
                    sim_ep_str (info.ep), info.cid, info.unverified ? ", unverified" : "");
       }
       fail ("INV-told", c -> id,
             "%s was told `connect` at %u ms (server slot %u, session %u) and is not established, but the server holds "
             "no state for it: %s; %s; no DISCONNECT sent to it; state last seen at %u ms (%s); before this step the server "
             "last heard from it (on its slot) at %u ms (%u ms ago, connect timeout %u ms)",
             conn_name (c), c -> toldAt, c -> slot, c -> inSession,
             recordSlot >= 0 ? "its live record offers another slot" : "no live record", slotText,
             c -> lastHeld, changes, heardAt, now - heardAt, timeout);
       {
          /* a second connection of the same client host (same address and port) handshaking? */
          int others = 0;
          for (int j = h -> firstConn; j < h -> firstConn + h -> connCount; ++ j)
            if (& conns [j] != c && conns [j].active && (conns [j].phase == P_CONNECTING || conns [j].phase == P_TOLD)) ++ others;
          size_t n = strlen (failDetail);
          snprintf (failDetail + n, sizeof (failDetail) - n, "; other connections of its host handshaking: %d", others);
       }
    }
}

/* INV-reflect: an endpoint never established on the server gets at most 3 bytes from the
   server per byte the server read from it (on the wire, before decompression). Checked when
   the server sends to it, the only moment the ratio grows; only for exchanges wholly with the
   defence on (off is stock ENet, which retransmits VERIFY_CONNECT on its own timer). */
static void
check_reflect (void)
{
    for (size_t i = 0; i < dirtyCount && ! failed; ++ i)
    {
       sim_ep e = dirty [i];
       const sim_pair * in = simnet_pair (e, serverEp), * out = simnet_pair (serverEp, e);
       if (out == NULL || map_find (& establishedSet, e, 0) != NULL) continue;
       if (! server_defence_on () || in == NULL || ! in -> gotAny || (int32_t) (in -> firstGot - defenceOnSince) < 0) continue;
       double ratio = (double) out -> sentBytes / (double) in -> gotBytes;
       double datagrams = (double) out -> sentDatagrams / (double) in -> gotDatagrams;
       if (ratio > worstReflect) worstReflect = ratio;
       if (datagrams > worstReflectDatagrams) worstReflectDatagrams = datagrams;
       /* One answer per datagram read, and besides at most one DISCONNECT per handshake, each of
          which began with a datagram read: never more than two datagrams out per one in. */
       if (out -> sentBytes > 3 * in -> gotBytes || out -> sentDatagrams > 2 * in -> gotDatagrams)
         fail ("INV-reflect", -1, "the server sent %" PRIu64 " bytes in %" PRIu64 " datagrams to %s, which it never established, "
               "having read %" PRIu64 " bytes in %" PRIu64 " datagrams from it: %.2f bytes and %.2f datagrams out per one in",
               out -> sentBytes, out -> sentDatagrams, sim_ep_str (e), in -> gotBytes, in -> gotDatagrams, ratio, datagrams);
    }
    dirtyCount = 0;
}

static uint32_t
rtt_bound (void)
{
    uint32_t d = 10 * (cfg.net.delay + cfg.net.jitter);
    return d > 2000 ? d : 2000;
}

/* INV-rtt: an established server peer's round-trip time is below max(2000, 10 x the network's
   largest delay) ms. Only a server step changes it. */
static void
check_rtt (void)
{
    uint32_t bound = rtt_bound ();
    for (int i = 0; i < cfg.conns && ! failed; ++ i)
    {
       conn * c = & conns [i];
       if (c -> phase != P_ESTABLISHED || ! server_established (clients [c -> client].ep, c -> cid, c -> slot)) continue;
       uint32_t rtt = server_round_trip_time (clients [c -> client].ep, c -> cid, c -> slot);
       if (rtt >= bound)
         fail ("INV-rtt", c -> id, "the server's round-trip time for %s (slot %u) is %u ms, bound %u ms",
               conn_name (c), c -> slot, rtt, bound);
    }
    /* Every established peer, every 256 server steps; not once the defence has been off: a
       blind attacker completes handshakes against stock ENet with a guessed sent time (which
       the defence is there to stop), and its round-trip time is whatever it guessed. */
    if ((serverSteps & 255) == 0 && ! defenceEverOff)
      for (size_t s = 0; s < server_slots () && ! failed; ++ s)
      {
         server_peer_info info;
         server_peer ((uint16_t) s, & info);
         if (info.kind == PEER_ESTABLISHED && info.rtt >= bound)
           fail ("INV-rtt", -1, "the server's round-trip time for slot %zu (%s, cid %08x) is %u ms, bound %u ms",
                 s, sim_ep_str (info.ep), info.cid, info.rtt, bound);
      }
}

/* INV-work: no datagram makes the server walk more than slots + 64 records. A record hash
   chain is walked for every datagram of its endpoints that no peer takes (once, three times for
   a CONNECT): one endpoint holds at most one live record per slot id (its labels), and keyed
   hashing keeps other endpoints' records from collecting in one chain, so a longer chain is
   records that ended and stayed (attack review, finding 1). Every 256 server steps (it reads
   the whole table). */
static void
check_work (void)
{
    size_t longest, bound = server_slots () + 64;
    if ((serverSteps & 255) != 0) return;
    longest = server_longest_record_chain ();
    if (longest > bound)
      fail ("INV-work", -1, "a record hash chain holds %zu records (bound: slots + 64 = %zu): every datagram of its endpoint walks them",
            longest, bound);
}

/* INV-index: the host's bitmaps of its slots and its index of peers by endpoint agree with
   the peers, after every server step while the slots are few, every 64 steps otherwise (a
   CONNECT finds its slot and an endpoint's ids through them, never by walking the slots: a stale
   bit would offer a taken slot or hide a free one). */
static void
check_index (void)
{
    char why [256];
    if (server_slots () > 64 && (serverSteps & 63) != 0) return;
    if (! server_index_consistent (why, sizeof (why)))
      fail ("INV-index", -1, "%s", why);
}

/* INV-mem: the server's live ENet allocations stay under the bound of its configuration. */
static void
check_memory (void)
{
    if (server_memory_live () > server_memory_bound ())
      fail ("INV-mem", -1, "the server holds %zu bytes of ENet allocations, bound %zu", server_memory_live (), server_memory_bound ());
}

/* INV-join while waiting: an episode still unjoined past the bound fails at once. */
static void
check_join_wait (conn * c)
{
    if (! cfg.joinApplies || ! c -> wants || ! c -> inEpisode) return;
    if ((int32_t) (simnet_now () - c -> episodeStart) > (int32_t) joinBoundMs)
      fail ("INV-join", c -> id, "%s has not joined %u ms after its episode began (%d attempts, phase %s; bound %u ms)",
            conn_name (c), simnet_now () - c -> episodeStart, c -> attempts, phaseNames [c -> phase], joinBoundMs);
}

/* After every step. */
static void
check_step (int serverStep)
{
    ++ steps;
    for (int i = 0; i < cfg.conns && ! failed; ++ i)
    {
       check_told (& conns [i]);
       check_join_wait (& conns [i]);
    }
    if (! failed) check_reflect ();
    if (serverStep)
    {
       ++ serverSteps;
       if (! failed) check_rtt ();
       if (! failed) check_memory ();
       if (! failed) check_work ();
       if (! failed) check_index ();
    }
}

/* ================================================================ the clients' app */

static void
start_episode (conn * c, uint32_t at)
{
    c -> inEpisode = 1;
    c -> attempts = 0;
    c -> episodeStart = at;
    c -> nextAttempt = at ? at : 1;       /* 0 means no attempt due */
}

static void
attempt (conn * c)
{
    client_host * h = & clients [c -> client];
    uint16_t peer;
    uint32_t cid;
    c -> nextAttempt = 0;
    if (client_connect (h -> handle, serverEp, h -> channels, (uint32_t) c -> id, & peer, & cid) < 0)
    {
       c -> nextAttempt = simnet_now () + 200;     /* its peers are all busy: later */
       return;
    }
    ++ c -> attempts;
    c -> active = 1;
    c -> phase = P_CONNECTING;
    c -> peer = peer;
    c -> cid = cid;
    c -> slot = 0xFFF;
    c -> verifySeen = 0; c -> toldDone = 0; c -> hint = -1; c -> lastHeld = 0; c -> heardAny = 0;
    c -> sent = c -> echoed = 0;
    memset (c -> lastEcho, 0, sizeof (c -> lastEcho));
    c -> historyCount = 0;
    history (c, "attempt %d: connects from peer %u with cid %08x", c -> attempts, peer, cid);
    simlog_note ("%s: attempt %d", conn_name (c), c -> attempts);
}

/* A message: connection id, sequence number, connect ID, then a pattern; its echo must come
   back whole, once, in order per channel. */
static size_t
message (const conn * c, uint32_t seq, uint8_t * out)
{
    size_t length = 12 + (seq * 7) % 64;
    wr32 (out, (uint32_t) c -> id); wr32 (out + 4, seq); wr32 (out + 8, c -> cid);
    for (size_t i = 12; i < length; ++ i) out [i] = (uint8_t) (seq * 31 + i);
    return length;
}

static void
send_message (conn * c)
{
    uint8_t m [128];
    size_t length = message (c, c -> sent, m);
    uint8_t channel = (uint8_t) (c -> sent % c -> channels);
    if (client_send (clients [c -> client].handle, c -> peer, channel, m, length) == 0) ++ c -> sent;
}

static conn *
conn_of (int client, uint16_t peer)
{
    client_host * h = & clients [client];
    for (int j = h -> firstConn; j < h -> firstConn + h -> connCount; ++ j)
      if (conns [j].active && conns [j].peer == peer) return & conns [j];
    return NULL;
}

static void
client_event_handler (int client, const client_event * ev)
{
    conn * c = conn_of (client, ev -> peer);
    client_peer_info info;
    if (c == NULL) return;
    switch (ev -> type)
    {
    case EV_CONNECT:
       client_peer (clients [client].handle, c -> peer, & info);
       c -> phase = P_TOLD;
       c -> toldAt = simnet_now ();
       c -> slot = info.slot;
       c -> inSession = info.inSession;
       c -> outSession = info.outSession;
       c -> channels = info.channels < 4 ? (uint32_t) info.channels : 4;
       c -> nextMsg = simnet_now ();
       history (c, "told `connect`: server slot %u, sessions in %u out %u", info.slot, info.inSession, info.outSession);
       simlog_note ("%s told connect: slot %u", conn_name (c), info.slot);
       break;

    case EV_DISCONNECT:
    {
       int wasConnected = c -> phase == P_TOLD || c -> phase == P_ESTABLISHED;
       int wasEstablished = c -> phase == P_ESTABLISHED;
       history (c, "disconnect event (was %s)", phaseNames [c -> phase]);
       simlog_note ("%s disconnected (was %s)", conn_name (c), phaseNames [c -> phase]);
       c -> active = 0;
       c -> phase = P_IDLE;
       c -> toldDone = 1;
       if (! c -> wants) break;
       if (wasEstablished)
         start_episode (c, simnet_now () + rng_range (& appRng, 0, 1000));
       else if (c -> attempts < MAX_ATTEMPTS || quiet)
         c -> nextAttempt = simnet_now () + rng_range (& appRng, 100, 1000);
       else
         c -> exhausted = 1;
       (void) wasConnected;
       break;
    }

    case EV_RECEIVE:
    {
       uint8_t expect [128];
       uint32_t seq = ev -> length >= 12 ? rd32 (ev -> bytes + 4) : 0;
       size_t n = message (c, seq, expect);
       uint8_t channel = (uint8_t) (seq % c -> channels);
       if (ev -> length != n || memcmp (ev -> bytes, expect, n) != 0 || seq >= c -> sent || ev -> channel != channel ||
           (seq >= 4 && seq <= c -> lastEcho [channel]))
       {
          const conn * twin = stale_twin (c);
          if (twin != NULL)
          {
             /* ENet's wire cannot tell these two apart (see stale_twin): not the handshake's fault. */
             history (c, "received a datagram of %s, a stale connection of its host under the same slot and session", conn_name (twin));
             twinCollisions ++;
             break;
          }
          fail ("INV-echo", c -> id, "%s received a packet on channel %u that is not the next echo of its messages (%zu bytes, seq %u, %u sent)",
                conn_name (c), ev -> channel, ev -> length, seq, c -> sent);
          break;
       }
       c -> lastEcho [channel] = seq;
       ++ c -> echoed;
       if (quiet && seq >= c -> quietMark) c -> quietEchoed = 1;
       if (c -> leaveAfter > 0 && c -> echoed >= (uint32_t) c -> leaveAfter && ! quiet)
       {
          history (c, "leaves (after %u echoes)", c -> echoed);
          simlog_note ("%s leaves", conn_name (c));
          client_disconnect (clients [client].handle, c -> peer);
          c -> wants = 0;
          c -> toldDone = 1;
       }
       break;
    }
    }
}

/* ================================================================ the schedule */

/* E_WATCH is the quiet phase's end-of-run watch. Until attack review 3 it was the kind after
   E_QUIET, which E_MEDDLE (attack review 2) then also was: every run's quiet phase meddled (the
   server app of --scenario meddle, 50 calls a second) and no end-of-run watch ran, so every run
   lasted to its cap. */
enum { E_SERVER, E_CLIENT, E_ATTACK, E_FOLLOWUP, E_TOGGLE, E_KICK, E_QUIET, E_MEDDLE, E_WATCH };
typedef struct { uint32_t time; uint64_t seq; int kind, index; } event;
static event * heap;
static size_t heapCount, heapCap;
static uint64_t eventSeq;
static uint32_t followupAt;

static int ev_before (const event * a, const event * b) { return a -> time != b -> time ? (int32_t) (a -> time - b -> time) < 0 : a -> seq < b -> seq; }

static void
schedule (uint32_t time, int kind, int index)
{
    event e = { time, eventSeq ++, kind, index };
    if (heapCount == heapCap) { heapCap = heapCap ? heapCap * 2 : 256; heap = realloc (heap, heapCap * sizeof (event)); }
    size_t i = heapCount ++;
    while (i > 0 && ev_before (& e, & heap [(i - 1) / 2])) { heap [i] = heap [(i - 1) / 2]; i = (i - 1) / 2; }
    heap [i] = e;
}

static event
next_event (void)
{
    event top = heap [0], last = heap [-- heapCount];
    size_t i = 0;
    for (;;)
    {
       size_t c = 2 * i + 1;
       if (c >= heapCount) break;
       if (c + 1 < heapCount && ev_before (& heap [c + 1], & heap [c])) ++ c;
       if (! ev_before (& heap [c], & last)) break;
       heap [i] = heap [c];
       i = c;
    }
    if (heapCount > 0) heap [i] = last;
    return top;
}

/* An exponential inter-arrival time for a rate per second, in whole ms. */
static uint32_t
gap (double rate)
{
    double u = ((double) (rng_next (& appRng) >> 11) + 1) / 9007199254740993.0;
    return (uint32_t) (-log (u) * 1000.0 / rate);
}

static void
service_server (void)
{
    server_event ev;
    for (int i = 0; i < 10000 && ! failed; ++ i)
    {
       int r = server_service (& ev);
       check_step (1);
       if (! r) break;
       if (ev.type == EV_CONNECT)
       {
          simlog_note ("server: CONNECT event, slot %u, %s cid %08x", ev.slot, sim_ep_str (ev.ep), ev.cid);
          * map_find (& establishedSet, ev.ep, 1) = 1;
       }
       else if (ev.type == EV_DISCONNECT)
         simlog_note ("server: DISCONNECT event, slot %u, %s cid %08x", ev.slot, sim_ep_str (ev.ep), ev.cid);
    }
}

static void
service_client (int index)
{
    client_host * h = & clients [index];
    client_event ev;
    uint32_t now = simnet_now ();
    for (int j = h -> firstConn; j < h -> firstConn + h -> connCount; ++ j)
    {
       conn * c = & conns [j];
       if (c -> wants && ! c -> active && ! c -> exhausted && c -> nextAttempt != 0 && (int32_t) (now - c -> nextAttempt) >= 0)
         attempt (c);
    }
    for (int i = 0; i < 10000 && ! failed; ++ i)
    {
       int r = client_service (h -> handle, & ev);
       if (r) client_event_handler (index, & ev);
       check_step (0);
       if (! r) break;
    }
    for (int j = h -> firstConn; j < h -> firstConn + h -> connCount && ! failed; ++ j)
    {
       conn * c = & conns [j];
       if (c -> active && c -> wants && (c -> phase == P_TOLD || c -> phase == P_ESTABLISHED) && (int32_t) (now - c -> nextMsg) >= 0)
       {
          send_message (c);
          c -> nextMsg = now + c -> msgInterval;
       }
    }
}

static void
set_defence (int enabled, size_t recordLimit, uint32_t timeout)
{
    if (enabled && ! server_defence_on ()) defenceOnSince = simnet_now ();
    if (! enabled) defenceEverOff = 1;
    server_set_defence (enabled, recordLimit, timeout);
}

/* Is the run over? After the quiet phase began: every connection that wants to be connected
   is connected on the client and established on the server, and has had a message sent in the
   quiet phase echoed; the server app's connected peers are exactly those (no phantom, no lost
   join). Returns what is missing, or NULL. */
static const char *
end_condition (int * which)
{
    static char why [512];
    * which = -1;
    for (int i = 0; i < cfg.conns; ++ i)
    {
       conn * c = & conns [i];
       client_peer_info info;
       if (! c -> wants) continue;
       * which = i;
       if (! c -> active || c -> phase != P_ESTABLISHED)
       {
          snprintf (why, sizeof (why), "%s wants to be connected but is %s (attempts %d%s)", conn_name (c), phaseNames [c -> phase],
                    c -> attempts, c -> exhausted ? ", gave up" : "");
          return why;
       }
       client_peer (clients [c -> client].handle, c -> peer, & info);
       if (info.state != 5 /* ENET_PEER_STATE_CONNECTED */ || ! server_established (clients [c -> client].ep, c -> cid, c -> slot))
       {
          snprintf (why, sizeof (why), "%s: client peer state %d, established on the server: %d", conn_name (c), info.state,
                    server_established (clients [c -> client].ep, c -> cid, c -> slot));
          return why;
       }
       if (! c -> quietEchoed)
       {
          snprintf (why, sizeof (why), "%s: no message of the quiet phase has round-tripped (%u sent, %u echoed)", conn_name (c), c -> sent, c -> echoed);
          return why;
       }
    }
    * which = -1;
    /* A forged handshake is no phantom of ours when the defence was off under attack: stock
       ENet's sent time is a clock, which a blind attacker guesses. */
    for (size_t s = 0; s < cfg.slots && ! (defenceEverOff && cfg.attacking); ++ s)
    {
       sim_ep ep;
       uint32_t cid;
       int matched = 0;
       if (! server_app_connected ((uint16_t) s, & ep, & cid)) continue;
       for (int i = 0; i < cfg.conns; ++ i)
         /* By address and connect ID: the slot the client addresses may be an alias of s. */
         if (conns [i].wants && conns [i].phase == P_ESTABLISHED && conns [i].cid == cid &&
             sim_ep_eq (clients [conns [i].client].ep, ep))
           matched = 1;
       if (! matched)
       {
          snprintf (why, sizeof (why), "the server app has a connected peer in slot %zu (%s, cid %08x) that is no honest connection (a phantom)",
                    s, sim_ep_str (ep), cid);
          return why;
       }
    }
    for (int i = 0; i < cfg.conns; ++ i)
    {
       sim_ep ep;
       uint32_t cid;
       conn * c = & conns [i];
       int found = 0;
       if (! c -> wants) continue;
       /* Any slot: the one the client addresses may be an alias of another. */
       for (size_t s = 0; s < cfg.slots && ! found; ++ s)
         found = server_app_connected ((uint16_t) s, & ep, & cid) && cid == c -> cid && sim_ep_eq (ep, clients [c -> client].ep);
       if (! found)
       {
          * which = i;
          snprintf (why, sizeof (why), "%s is established but the server app never had its CONNECT event (a lost join)", conn_name (c));
          return why;
       }
    }
    return NULL;
}

/* ================================================================ one seed */

static void
setup_world (sim_rng * r)
{
    int connCount = 0;
    clients = calloc ((size_t) cfg.clients, sizeof (client_host));
    conns = calloc ((size_t) cfg.clients * MAX_CONN_PER_CLIENT, sizeof (conn));
    for (int i = 0; i < cfg.clients; ++ i)
    {
       client_host * h = & clients [i];
       /* some clients share an IP address (NAT, one machine) on different ports */
       if (i > 0 && rng_chance (r, 0.3))
         h -> ep.ip = clients [i - 1].ep.ip, h -> ep.port = (uint16_t) (clients [i - 1].ep.port + 1);
       else
         h -> ep.ip = 0x0A010000u + (uint32_t) i + 1, h -> ep.port = (uint16_t) rng_range (r, 30000, 40000);
       h -> peers = (int) rng_range (r, 1, 3);
       h -> frame = rng_range (r, 5, 50);
       h -> channels = rng_range (r, 1, 4);
       h -> start = cfg.burst ? rng_range (r, 100, 105) : rng_chance (r, 0.5) ? rng_range (r, 0, 500) : rng_range (r, 0, cfg.activeMs);
       h -> firstConn = connCount;
       /* Mostly one connection per host (its spare peers serve its retries); sometimes two or
          three at once, from one address and port, as stock ENet allows. */
       h -> connCount = cfg.burst || rng_chance (r, 0.75) ? 1 : (int) rng_range (r, 1, (uint32_t) h -> peers);
       for (int j = 0; j < h -> connCount; ++ j)
       {
          conn * c = & conns [connCount];
          c -> id = connCount;
          c -> client = i;
          c -> wants = 1;
          c -> leaveAfter = rng_chance (r, 0.1) ? (int) rng_range (r, 3, 20) : 0;
          c -> msgInterval = rng_range (r, 100, 1000);
          start_episode (c, h -> start + (uint32_t) j * rng_range (r, 0, 300));
          ++ connCount;
       }
       * map_find (& honestMap, h -> ep, 1) = i;
    }
    cfg.conns = connCount;
}

static void
create_hosts (sim_rng * r)
{
    server_config sc;
    memset (& sc, 0, sizeof (sc));
    sc.ep = serverEp;
    sc.slots = cfg.slots; sc.channelLimit = cfg.channelLimit; sc.duplicatePeers = cfg.duplicatePeers;
    sc.defence = cfg.defence; sc.recordLimit = cfg.recordLimit; sc.connectTimeout = cfg.connectTimeout;
    sc.checksum = cfg.checksum; sc.compress = cfg.compress;
    sc.maxRecordLimit = cfg.recordLimit;
    for (int i = 0; i < cfg.toggleCount; ++ i)
      if (cfg.toggles [i].recordLimit > sc.maxRecordLimit) sc.maxRecordLimit = cfg.toggles [i].recordLimit;
    if (server_create (& sc) < 0) { fprintf (stderr, "sim: server_create failed\n"); exit (2); }
    for (int i = 0; i < cfg.clients; ++ i)
    {
       clients [i].handle = client_create (clients [i].ep, (size_t) clients [i].peers, clients [i].channels, cfg.checksum, cfg.compress, (uint32_t) rng_next (r));
       if (clients [i].handle < 0) { fprintf (stderr, "sim: client_create failed\n"); exit (2); }
    }
}

static void
teardown (void)
{
    server_destroy ();
    for (int i = cfg.clients - 1; i >= 0; -- i) client_destroy (clients [i].handle);
    free (clients); clients = NULL;
    free (conns); conns = NULL;
    free (heap); heap = NULL; heapCount = heapCap = 0;
    free (dirty); dirty = NULL; dirtyCount = dirtyCap = 0;
    map_clear (& honestMap);
    map_clear (& establishedSet);
    simnet_free ();
}

/* Runs one seed; returns 0 if every invariant held. */
static int
run_seed (uint64_t s, int verbose)
{
    sim_rng cfgRng, worldRng;
    uint64_t mix = s;
    uint32_t end;

    seed = s;
    failed = 0; failedConn = -1; quiet = 0; steps = serverSteps = 0; eventSeq = 0;
    rng_seed (& cfgRng, splitmix64 (& mix));
    rng_seed (& worldRng, splitmix64 (& mix));
    rng_seed (& appRng, splitmix64 (& mix));
    draw_config (& cfgRng);
    simnet_init (splitmix64 (& mix), cfg.net);
    sim_ours_platform_seed (splitmix64 (& mix), clockStart);
    sim_stock_platform_seed (splitmix64 (& mix));
    wire_checksums = cfg.checksum;
    simlog_verbose = verbose;
    simlog_decoder = wire_format;
    serverEp.ip = 0x0A000001u; serverEp.port = 7777;
    setup_world (& worldRng);
    decide_checks ();
    create_hosts (& worldRng);
    defenceOnSince = cfg.defence ? simnet_now () : 0xFFFFFFFFu;
    defenceEverOff = ! cfg.defence;
    twinCollisions = 0;
    simnet_watch (serverEp, server_watch);
    attack_init (splitmix64 (& mix), & cfg.attack, serverEp, (uint32_t) cfg.slots, cfg.checksum, cfg.compress);
    attack_set_honest_filter (is_honest);
    for (int i = 0; i < cfg.clients; ++ i) attack_add_victim (clients [i].ep.ip);
    if (verbose) describe_config (stdout);

    schedule (simnet_now (), E_SERVER, 0);
    for (int i = 0; i < cfg.clients; ++ i) schedule (clients [i].start, E_CLIENT, i);
    for (int k = 0; k < ATK_KINDS; ++ k)
      if (cfg.attack.rate [k] > 0) schedule (simnet_now () + gap (cfg.attack.rate [k]), E_ATTACK, k);
    for (int i = 0; i < cfg.toggleCount; ++ i) schedule (cfg.toggles [i].time, E_TOGGLE, i);
    if (cfg.kickRate > 0) schedule (simnet_now () + gap (cfg.kickRate), E_KICK, 0);
    if (scenarioMeddle) schedule (simnet_now () + 20, E_MEDDLE, 0);
    schedule (cfg.activeMs, E_QUIET, 0);
    followupAt = UINT32_MAX;
    end = UINT32_MAX;

    while (! failed && heapCount > 0)
    {
       event e = next_event ();
       if (e.time >= end) break;
       simnet_set_now (e.time);
       switch (e.kind)
       {
       case E_SERVER:
          service_server ();
          schedule (e.time + cfg.serverFrame, E_SERVER, 0);
          break;
       case E_CLIENT:
          service_client (e.index);
          schedule (e.time + clients [e.index].frame, E_CLIENT, e.index);
          break;
       case E_ATTACK:
          if (quiet) break;
          attack_fire (e.index);
          check_step (0);
          schedule (e.time + gap (cfg.attack.rate [e.index]), E_ATTACK, e.index);
          if (attack_next_followup () < followupAt) { followupAt = attack_next_followup (); schedule (followupAt, E_FOLLOWUP, 0); }
          break;
       case E_FOLLOWUP:
          if (quiet || e.time != followupAt) break;
          while (! failed && attack_next_followup () <= e.time) { attack_followup (); check_step (0); }
          followupAt = attack_next_followup ();
          if (followupAt != UINT32_MAX) schedule (followupAt, E_FOLLOWUP, 0);
          break;
       case E_TOGGLE:
       {
          const toggle * t = & cfg.toggles [e.index];
          simlog_note ("CONFIG: defence %s, record limit %zu, connect timeout %u", t -> enabled ? "on" : "off", t -> recordLimit, t -> timeout);
          for (int i = 0; i < cfg.conns; ++ i)
            conns [i].configChanged = 1;
          for (int i = 0; i < cfg.conns; ++ i)
            if (conns [i].phase == P_TOLD || conns [i].phase == P_CONNECTING)
              history (& conns [i], "CONFIG: defence %s, record limit %zu, connect timeout %u", t -> enabled ? "on" : "off", t -> recordLimit, t -> timeout);
          set_defence (t -> enabled, t -> recordLimit, t -> timeout);
          check_step (1);
          break;
       }
       case E_KICK:
       {
          if (quiet) break;
          int slot = server_kick ((uint32_t) rng_next (& appRng));
          if (slot >= 0) simlog_note ("server app disconnects slot %d", slot);
          schedule (e.time + gap (cfg.kickRate), E_KICK, 0);
          break;
       }
       case E_MEDDLE:
       {
          /* A fixed step and its own pick (not appRng): every other draw stays as it was. */
          int slot = server_meddle ((uint32_t) (e.time * 2654435761u));
          if (slot >= 0) simlog_note ("server app meddles with slot %d", slot);
          check_step (1);
          schedule (e.time + 20, E_MEDDLE, 0);
          break;
       }
       case E_QUIET:
          /* The quiet phase: attackers stop, loss goes, and every connection that wants to be
             connected gets a fresh budget of attempts; end-of-run checks follow. */
          quiet = 1;
          quietStart = e.time;
          {
             sim_impair n = cfg.net;
             n.loss = 0;
             simnet_set_impair (n);
          }
          simlog_note ("QUIET PHASE");
          for (int i = 0; i < cfg.conns; ++ i)
          {
             conn * c = & conns [i];
             c -> quietMark = c -> sent;
             c -> quietEchoed = 0;
             if (c -> wants && c -> exhausted)
             {
                c -> exhausted = 0;
                start_episode (c, e.time);
             }
          }
          end = e.time + (cfg.liveApplies ? cfg.quietCapMs : 10000);
          schedule (e.time + 100, E_WATCH, 0);
          break;
       case E_WATCH:
       {
          /* end-of-run watch, every 100 ms of the quiet phase */
          int which;
          if (cfg.liveApplies && end_condition (& which) == NULL)
          {
             end = e.time;
             break;
          }
          schedule (e.time + 100, E_WATCH, 0);
          break;
       }
       }
    }

    if (! failed && cfg.liveApplies)
    {
       int which;
       const char * why = end_condition (& which);
       if (why != NULL)
         fail ("INV-live", which, "after %u ms of quiet phase: %s", simnet_now () - quietStart, why);
    }
    if (! failed) check_memory ();
    if ((double) server_memory_peak () / (double) server_memory_bound () > worstMemory)
      worstMemory = (double) server_memory_peak () / (double) server_memory_bound ();

    if (failed) report_failure ();
    else if (verbose) printf ("seed %" PRIu64 " ok\n", s);
    printf ("seed %" PRIu64 " %s%s steps %" PRIu64 " virtual %u ms events %" PRIu64 " memory %zu/%zu hash %016" PRIx64 "%s\n", s,
            failed ? "FAIL " : "ok", failed ? failWhat : "", steps, simnet_now (), simlog_count (),
            server_memory_peak (), server_memory_bound (), simlog_hash (), twinCollisions > 0 ? " (stale twin datagrams)" : "");
    teardown ();
    return failed;
}

/* ================================================================ main */

static int
compare_u32 (const void * a, const void * b)
{
    uint32_t x = * (const uint32_t *) a, y = * (const uint32_t *) b;
    return x < y ? -1 : x > y;
}

static void
print_join_stats (void)
{
    for (int lossless = 1; lossless >= 0; -- lossless)
      for (int attacked = 0; attacked <= 2; ++ attacked)
      {
         uint32_t * v = malloc ((joinCount + 1) * sizeof (uint32_t));
         size_t n = 0;
         int maxAttempts = 0;
         for (size_t i = 0; i < joinCount; ++ i)
           if (joinSamples [i].lossless == lossless && joinSamples [i].attacked == attacked)
           {
              v [n ++] = joinSamples [i].ms;
              if (joinSamples [i].attempts > maxAttempts) maxAttempts = joinSamples [i].attempts;
           }
         if (n > 0)
         {
            qsort (v, n, sizeof (uint32_t), compare_u32);
            printf ("join times (%s network, %s): %zu joins, ms p50 %u p90 %u p99 %u p99.9 %u max %u; most attempts %d\n",
                    lossless ? "lossless" : "lossy", attacked == 0 ? "no attacker" : attacked == 1 ? "under attack" : "quiet phase after an attack", n,
                    v [n / 2], v [n * 9 / 10], v [n * 99 / 100], v [n * 999 / 1000], v [n - 1], maxAttempts);
         }
         free (v);
      }
    printf ("reflection: worst %.2f bytes and %.2f datagrams out per one in, to endpoints never established\n",
            worstReflect, worstReflectDatagrams);
    printf ("memory: the server's peak was at most %.0f%% of its bound\n", worstMemory * 100);
}

static void
usage (void)
{
    fprintf (stderr, "usage: sim [--seed S | --seeds A-B | --list S,S,... | --fresh K] [--verbose] [--quick] [--trace N] [--reports K]\n"
                     "           [--join-bound MS] [--join-attempts N] [--stats] [--scenario pile|meddle]\n"
                     "           [--clock-start MS]\n");
    exit (2);
}

int
main (int argc, char ** argv)
{
    uint64_t first = 1, last = 1;
    int verbose = 0, fresh = 0, failures = 0, printed = 0;
    uint64_t * seeds = NULL;
    size_t seedCount = 0;

    setvbuf (stdout, NULL, _IOLBF, 0);
    for (int i = 1; i < argc; ++ i)
    {
       const char * a = argv [i];
       if (! strcmp (a, "--seed") && i + 1 < argc) first = last = strtoull (argv [++ i], NULL, 0);
       else if (! strcmp (a, "--seeds") && i + 1 < argc)
       {
          char * dash;
          first = strtoull (argv [++ i], & dash, 0);
          if (* dash != '-') usage ();
          last = strtoull (dash + 1, NULL, 0);
       }
       else if (! strcmp (a, "--list") && i + 1 < argc)
       {
          const char * p = argv [++ i];
          while (* p)
          {
             char * after;
             seeds = realloc (seeds, (seedCount + 1) * sizeof (uint64_t));
             seeds [seedCount ++] = strtoull (p, & after, 0);
             if (after == p) usage ();
             p = * after == ',' ? after + 1 : after;
          }
       }
       else if (! strcmp (a, "--fresh") && i + 1 < argc) fresh = atoi (argv [++ i]);
       else if (! strcmp (a, "--verbose")) verbose = 1;
       else if (! strcmp (a, "--quick")) quick = 1;
       else if (! strcmp (a, "--scenario") && i + 1 < argc && ! strcmp (argv [i + 1], "pile")) { scenarioPile = 1; ++ i; }
       else if (! strcmp (a, "--scenario") && i + 1 < argc && ! strcmp (argv [i + 1], "meddle")) { scenarioMeddle = 1; ++ i; }
       else if (! strcmp (a, "--clock-start") && i + 1 < argc) clockStart = (uint32_t) strtoul (argv [++ i], NULL, 0);
       else if (! strcmp (a, "--stats")) printStats = 1;
       else if (! strcmp (a, "--trace") && i + 1 < argc) traceEvents = atoi (argv [++ i]);
       else if (! strcmp (a, "--reports") && i + 1 < argc) reports = atoi (argv [++ i]);
       else if (! strcmp (a, "--join-bound") && i + 1 < argc) joinBoundMs = (uint32_t) atoi (argv [++ i]);
       else if (! strcmp (a, "--join-attempts") && i + 1 < argc) joinBoundAttempts = atoi (argv [++ i]);
       else usage ();
    }
    if (fresh > 0)
    {
       /* seeds from the clock, printed so that a failure can be replayed */
       struct timespec ts;
       uint64_t state;
       clock_gettime (CLOCK_REALTIME, & ts);
       state = (uint64_t) ts.tv_sec * 1000000000ULL + (uint64_t) ts.tv_nsec;
       seedCount = (size_t) fresh;
       seeds = malloc (seedCount * sizeof (uint64_t));
       for (size_t i = 0; i < seedCount; ++ i) seeds [i] = splitmix64 (& state) >> 16;
       printf ("fresh seeds:");
       for (size_t i = 0; i < seedCount; ++ i) printf (" %" PRIu64, seeds [i]);
       printf ("\n");
    }
    else if (seedCount == 0)
    {
       seedCount = (size_t) (last - first + 1);
       seeds = malloc (seedCount * sizeof (uint64_t));
       for (size_t i = 0; i < seedCount; ++ i) seeds [i] = first + i;
    }

    for (size_t i = 0; i < seedCount; ++ i)
    {
       int saved = traceEvents;
       if (printed >= reports && seedCount > 1) traceEvents = 0;
       int bad = run_seed (seeds [i], verbose);
       traceEvents = saved;
       if (bad) { ++ failures; ++ printed; }
    }
    if (printStats || seedCount > 1) print_join_stats ();
    printf ("%zu seeds, %d failed\n", seedCount, failures);
    free (seeds);
    free (joinSamples);
    return failures ? 1 : 0;
}
