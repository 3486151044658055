/* simnet: virtual clock, in-memory network, counters, ring log and PRNG (see simnet.h). */
#include "simnet.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- PRNG */

uint64_t
splitmix64 (uint64_t * state)
{
    uint64_t z = (* state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

void
rng_seed (sim_rng * r, uint64_t seed)
{
    for (int i = 0; i < 4; ++ i)
      r -> s [i] = splitmix64 (& seed);
}

static uint64_t rotl (uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t
rng_next (sim_rng * r)
{
    uint64_t * s = r -> s, result = rotl (s [1] * 5, 7) * 9, t = s [1] << 17;
    s [2] ^= s [0]; s [3] ^= s [1]; s [1] ^= s [2]; s [0] ^= s [3];
    s [2] ^= t; s [3] = rotl (s [3], 45);
    return result;
}

uint32_t
rng_below (sim_rng * r, uint32_t n)
{
    /* Lemire's multiply-shift: the slight bias is irrelevant here, determinism is what counts. */
    return (uint32_t) (((rng_next (r) >> 32) * (uint64_t) n) >> 32);
}

uint32_t rng_range (sim_rng * r, uint32_t lo, uint32_t hi) { return lo + rng_below (r, hi - lo + 1); }

int
rng_chance (sim_rng * r, double p)
{
    if (p <= 0) return 0;
    return (double) (rng_next (r) >> 11) * (1.0 / 9007199254740992.0) < p;
}

/* ---------------------------------------------------------------- clock */

static uint32_t now;
uint32_t simnet_now (void) { return now; }
void simnet_set_now (uint32_t t) { now = t; }

const char *
sim_ep_str (sim_ep e)
{
    static char bufs [8][32];
    static int next;
    char * b = bufs [next ++ & 7];
    snprintf (b, 32, "%u.%u.%u.%u:%u", e.ip >> 24, (e.ip >> 16) & 255, (e.ip >> 8) & 255, e.ip & 255, e.port);
    return b;
}

/* ---------------------------------------------------------------- log */

enum { LOG_RING = 4096, LOG_BYTES = 192 };
typedef struct {
    uint32_t time;
    uint8_t  kind;
    sim_ep   src, dst;
    uint16_t len, stored;
    uint32_t arrive;           /* SEND/DUP: delivery time */
    char     note [128];       /* NOTE text, INJECT kind */
    uint8_t  bytes [LOG_BYTES];
} log_entry;

static log_entry * ring;
static uint64_t logged, logHash = 0xCBF29CE484222325ULL;
int simlog_verbose;
simlog_decode_fn simlog_decoder;

static void
hash_bytes (const void * p, size_t n)
{
    const uint8_t * b = p;
    for (size_t i = 0; i < n; ++ i)
      logHash = (logHash ^ b [i]) * 0x100000001B3ULL;
}

static void print_entry (const log_entry * e, simlog_decode_fn decode);

static log_entry *
log_add (uint8_t kind, sim_ep src, sim_ep dst, const void * data, size_t len)
{
    log_entry * e = & ring [logged ++ % LOG_RING];
    e -> time = now; e -> kind = kind; e -> src = src; e -> dst = dst;
    e -> len = (uint16_t) len;
    e -> stored = (uint16_t) (len < LOG_BYTES ? len : LOG_BYTES);
    e -> arrive = 0;
    e -> note [0] = 0;
    if (data != NULL) memcpy (e -> bytes, data, e -> stored);
    else e -> stored = 0;
    hash_bytes (& e -> time, sizeof (e -> time)); hash_bytes (& kind, 1);
    /* field by field: sim_ep has padding, whose bytes are not the run's */
    hash_bytes (& src.ip, sizeof (src.ip)); hash_bytes (& src.port, sizeof (src.port));
    hash_bytes (& dst.ip, sizeof (dst.ip)); hash_bytes (& dst.port, sizeof (dst.port));
    hash_bytes (& e -> len, sizeof (e -> len)); hash_bytes (e -> bytes, e -> stored);
    return e;
}

static void
log_done (log_entry * e)
{
    hash_bytes (& e -> arrive, sizeof (e -> arrive));
    hash_bytes (e -> note, strlen (e -> note));
    if (simlog_verbose) print_entry (e, simlog_decoder);
}

void
simlog_note (const char * fmt, ...)
{
    static const sim_ep none = { 0, 0 };
    log_entry * e = log_add (SIMLOG_NOTE, none, none, NULL, 0);
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (e -> note, sizeof (e -> note), fmt, ap);
    va_end (ap);
    log_done (e);
}

static void
print_entry (const log_entry * e, simlog_decode_fn decode)
{
    char text [512] = "";
    if (e -> kind != SIMLOG_NOTE && decode != NULL && e -> stored == e -> len)
      decode (e -> src, e -> dst, e -> bytes, e -> len, text, sizeof (text));
    else if (e -> kind != SIMLOG_NOTE)
      snprintf (text, sizeof (text), "(%u bytes)", e -> len);
    switch (e -> kind)
    {
    case SIMLOG_NOTE:   printf ("  %8u  %s\n", e -> time, e -> note); break;
    case SIMLOG_SEND:   printf ("  %8u  send %s -> %s [arrives %u] %s\n", e -> time, sim_ep_str (e -> src), sim_ep_str (e -> dst), e -> arrive, text); break;
    case SIMLOG_DUP:    printf ("  %8u  dup  %s -> %s [arrives %u] %s\n", e -> time, sim_ep_str (e -> src), sim_ep_str (e -> dst), e -> arrive, text); break;
    case SIMLOG_LOST:   printf ("  %8u  LOST %s -> %s %s\n", e -> time, sim_ep_str (e -> src), sim_ep_str (e -> dst), text); break;
    case SIMLOG_INJECT: printf ("  %8u  ATTACK(%s) %s -> %s [arrives %u] %s\n", e -> time, e -> note, sim_ep_str (e -> src), sim_ep_str (e -> dst), e -> arrive, text); break;
    case SIMLOG_RECV:   printf ("  %8u  recv %s <- %s %s\n", e -> time, sim_ep_str (e -> dst), sim_ep_str (e -> src), text); break;
    }
}

void
simlog_print (int n, simlog_decode_fn decode)
{
    uint64_t first = logged > (uint64_t) n ? logged - n : 0;
    if (logged - first > LOG_RING) first = logged - LOG_RING;
    for (uint64_t i = first; i < logged; ++ i)
      print_entry (& ring [i % LOG_RING], decode);
}

uint64_t simlog_hash (void) { return logHash; }
uint64_t simlog_count (void) { return logged; }

/* ---------------------------------------------------------------- sockets */

typedef struct {
    uint32_t time;
    uint64_t seq;
    sim_ep   src;
    size_t   len;
    uint8_t  data [];
} datagram;

typedef struct {
    int        used, bound;
    sim_ep     ep;
    datagram ** heap;          /* arrived or in flight to this socket, by (time, seq) */
    size_t     count, cap, bytes;
} sim_socket;

enum { INBOX_BYTES = 256 * 1024 }; /* ENET_HOST_RECEIVE_BUFFER_SIZE: a full socket drops */

static sim_socket * sockets;
static int socketCount, socketCap;
static int * epMap;            /* open addressing: endpoint -> socket + 1, 0 empty, -1 deleted */
static size_t epMapSize;
static sim_rng netRng;
static sim_impair impair;
static uint64_t sequence, droppedFull;

static uint64_t ep_key (sim_ep e) { return ((uint64_t) e.ip << 16) | e.port; }
static size_t mix (uint64_t k) { k ^= k >> 33; k *= 0xFF51AFD7ED558CCDULL; k ^= k >> 33; return (size_t) k; }

static int
ep_lookup (sim_ep e)
{
    size_t mask = epMapSize - 1, i = mix (ep_key (e)) & mask;
    for (;; i = (i + 1) & mask)
    {
       int v = epMap [i];
       if (v == 0) return -1;
       if (v > 0 && sim_ep_eq (sockets [v - 1].ep, e) && sockets [v - 1].bound) return v - 1;
    }
}

static void
ep_insert (sim_ep e, int sock)
{
    size_t mask = epMapSize - 1, i = mix (ep_key (e)) & mask;
    while (epMap [i] > 0) i = (i + 1) & mask;
    epMap [i] = sock + 1;
}

static void
ep_remove (int sock)
{
    size_t mask = epMapSize - 1, i = mix (ep_key (sockets [sock].ep)) & mask;
    for (;; i = (i + 1) & mask)
    {
       if (epMap [i] == 0) return;
       if (epMap [i] == sock + 1) { epMap [i] = -1; return; }
    }
}

/* ---------------------------------------------------------------- pair counters */

typedef struct { sim_ep src, dst; int used; sim_pair c; } pair_slot;
static pair_slot * pairs;
static size_t pairCap, pairCount;

static size_t pair_hash (sim_ep s, sim_ep d) { return mix (ep_key (s) * 0x9E3779B97F4A7C15ULL ^ ep_key (d)); }

static sim_pair *
pair_get (sim_ep s, sim_ep d, int create)
{
    if (pairCap == 0) return NULL;
    size_t mask = pairCap - 1, i = pair_hash (s, d) & mask;
    for (;; i = (i + 1) & mask)
    {
       pair_slot * p = & pairs [i];
       if (! p -> used)
       {
          if (! create) return NULL;
          if ((pairCount + 1) * 2 > pairCap)
          {
             /* grow and retry */
             pair_slot * old = pairs;
             size_t oldCap = pairCap;
             pairCap *= 2;
             pairs = calloc (pairCap, sizeof (pair_slot));
             pairCount = 0;
             for (size_t j = 0; j < oldCap; ++ j)
               if (old [j].used) * pair_get (old [j].src, old [j].dst, 1) = old [j].c;
             free (old);
             return pair_get (s, d, 1);
          }
          p -> used = 1; p -> src = s; p -> dst = d;
          memset (& p -> c, 0, sizeof (p -> c));
          ++ pairCount;
          return & p -> c;
       }
       if (sim_ep_eq (p -> src, s) && sim_ep_eq (p -> dst, d)) return & p -> c;
    }
}

const sim_pair * simnet_pair (sim_ep s, sim_ep d) { return pair_get (s, d, 0); }
uint64_t simnet_dropped_full (void) { return droppedFull; }

/* ---------------------------------------------------------------- watches */

static struct { sim_ep ep; simnet_watch_fn fn; } watches [4];
static int watchCount;

void
simnet_watch (sim_ep ep, simnet_watch_fn fn)
{
    if (watchCount < 4) { watches [watchCount].ep = ep; watches [watchCount].fn = fn; ++ watchCount; }
}

/* ---------------------------------------------------------------- init */

void
simnet_init (uint64_t seed, sim_impair imp)
{
    simnet_free ();
    rng_seed (& netRng, seed);
    impair = imp;
    now = 1;   /* ENet treats time 0 specially in places (lastReceiveTime); real clocks are never 0 */
    socketCap = 64;
    sockets = calloc (socketCap, sizeof (sim_socket));
    epMapSize = 8192;
    epMap = calloc (epMapSize, sizeof (int));
    pairCap = 1024;
    pairs = calloc (pairCap, sizeof (pair_slot));
    if (ring == NULL) ring = malloc (LOG_RING * sizeof (log_entry));
    logged = 0; logHash = 0xCBF29CE484222325ULL;
    sequence = 0; droppedFull = 0;
}

void simnet_set_impair (sim_impair imp) { impair = imp; }
sim_impair simnet_impair (void) { return impair; }

void
simnet_free (void)
{
    for (int i = 0; i < socketCount; ++ i)
    {
       for (size_t j = 0; j < sockets [i].count; ++ j) free (sockets [i].heap [j]);
       free (sockets [i].heap);
    }
    free (sockets); sockets = NULL; socketCount = socketCap = 0;
    free (epMap); epMap = NULL;
    free (pairs); pairs = NULL; pairCap = pairCount = 0;
    watchCount = 0;
}

int
simnet_socket (void)
{
    if (socketCount == socketCap)
    {
       socketCap *= 2;
       sockets = realloc (sockets, socketCap * sizeof (sim_socket));
       memset (& sockets [socketCount], 0, (socketCap - socketCount) * sizeof (sim_socket));
    }
    if ((size_t) socketCount * 2 >= epMapSize) return -1;   /* 4096 hosts is plenty */
    sockets [socketCount].used = 1;
    return socketCount ++;
}

int
simnet_bind (int sock, sim_ep ep)
{
    if (sock < 0 || sock >= socketCount || sockets [sock].bound) return -1;
    if (ep.port == 0)
    {
       for (ep.port = 49152; ep_lookup (ep) >= 0; ++ ep.port)
         if (ep.port == 65535) return -1;
    }
    else if (ep_lookup (ep) >= 0)
      return -1;
    sockets [sock].ep = ep;
    sockets [sock].bound = 1;
    ep_insert (ep, sock);
    return 0;
}

sim_ep simnet_local (int sock) { return sockets [sock].ep; }

void
simnet_close (int sock)
{
    if (sock < 0 || sock >= socketCount || ! sockets [sock].used) return;
    if (sockets [sock].bound) ep_remove (sock);
    for (size_t j = 0; j < sockets [sock].count; ++ j) free (sockets [sock].heap [j]);
    sockets [sock].count = 0; sockets [sock].bytes = 0;
    sockets [sock].bound = 0;
    sockets [sock].used = 0;
}

/* ---------------------------------------------------------------- delivery heap */

static int
before (const datagram * a, const datagram * b)
{
    return a -> time != b -> time ? a -> time < b -> time : a -> seq < b -> seq;
}

static void
heap_push (sim_socket * s, datagram * d)
{
    if (s -> count == s -> cap)
    {
       s -> cap = s -> cap ? s -> cap * 2 : 16;
       s -> heap = realloc (s -> heap, s -> cap * sizeof (datagram *));
    }
    size_t i = s -> count ++;
    while (i > 0 && before (d, s -> heap [(i - 1) / 2]))
    {
       s -> heap [i] = s -> heap [(i - 1) / 2];
       i = (i - 1) / 2;
    }
    s -> heap [i] = d;
    s -> bytes += d -> len;
}

static datagram *
heap_pop (sim_socket * s)
{
    datagram * top = s -> heap [0], * last = s -> heap [-- s -> count];
    size_t i = 0;
    for (;;)
    {
       size_t c = 2 * i + 1;
       if (c >= s -> count) break;
       if (c + 1 < s -> count && before (s -> heap [c + 1], s -> heap [c])) ++ c;
       if (! before (s -> heap [c], last)) break;
       s -> heap [i] = s -> heap [c];
       i = c;
    }
    if (s -> count > 0) s -> heap [i] = last;
    s -> bytes -= top -> len;
    return top;
}

/* One copy onto the wire to dst: delayed by the delay and a jitter (which reorders), lost to
   a full inbox like a real socket buffer. Returns the arrival time. */
static uint32_t
enqueue (sim_ep src, sim_ep dst, const uint8_t * data, size_t len)
{
    uint32_t arrive = now + impair.delay + (impair.jitter ? rng_below (& netRng, impair.jitter + 1) : 0);
    int sock = ep_lookup (dst);
    if (sock < 0) return arrive;                  /* nobody there (a spoofed source) */
    sim_socket * s = & sockets [sock];
    if (s -> bytes + len > INBOX_BYTES) { ++ droppedFull; return arrive; }
    datagram * d = malloc (sizeof (datagram) + len);
    d -> time = arrive; d -> seq = sequence ++; d -> src = src; d -> len = len;
    memcpy (d -> data, data, len);
    heap_push (s, d);
    return arrive;
}

static void
wire (sim_ep src, sim_ep dst, const uint8_t * data, size_t len, const char * injectKind)
{
    sim_pair * p = pair_get (src, dst, 1);
    p -> sentBytes += len; ++ p -> sentDatagrams;
    for (int i = 0; i < watchCount; ++ i)
      if (sim_ep_eq (watches [i].ep, src)) watches [i].fn (1, src, dst, data, len);

    if (rng_chance (& netRng, impair.loss))
    {
       log_entry * e = log_add (SIMLOG_LOST, src, dst, data, len);
       if (injectKind) snprintf (e -> note, sizeof (e -> note), "%s", injectKind);
       log_done (e);
       return;
    }
    log_entry * e = log_add (injectKind ? SIMLOG_INJECT : SIMLOG_SEND, src, dst, data, len);
    if (injectKind) snprintf (e -> note, sizeof (e -> note), "%s", injectKind);
    e -> arrive = enqueue (src, dst, data, len);
    log_done (e);
    if (rng_chance (& netRng, impair.dup))
    {
       e = log_add (SIMLOG_DUP, src, dst, data, len);
       e -> arrive = enqueue (src, dst, data, len);
       log_done (e);
    }
}

int
simnet_send (int sock, sim_ep dst, const sim_iov * iov, size_t count)
{
    uint8_t buf [8192];
    size_t len = 0;
    if (sock < 0 || sock >= socketCount || ! sockets [sock].bound) return -1;
    for (size_t i = 0; i < count; ++ i)
    {
       if (len + iov [i].len > sizeof (buf)) return -1;
       memcpy (buf + len, iov [i].data, iov [i].len);
       len += iov [i].len;
    }
    wire (sockets [sock].ep, dst, buf, len, NULL);
    return (int) len;
}

void
simnet_inject (sim_ep src, sim_ep dst, const void * data, size_t len, const char * kind)
{
    wire (src, dst, data, len, kind);
}

int
simnet_pending (int sock)
{
    sim_socket * s = & sockets [sock];
    return s -> count > 0 && (int32_t) (s -> heap [0] -> time - now) <= 0;
}

int
simnet_receive (int sock, sim_ep * src, void * buf, size_t cap)
{
    if (sock < 0 || sock >= socketCount || ! simnet_pending (sock)) return 0;
    sim_socket * s = & sockets [sock];
    datagram * d = heap_pop (s);
    int result = -2;
    sim_pair * p = pair_get (d -> src, s -> ep, 1);
    if (! p -> gotAny) p -> firstGot = now;
    if (p -> lastGot != now) p -> gotBefore = p -> gotAny ? p -> lastGot : now;
    p -> gotBytes += d -> len; ++ p -> gotDatagrams; p -> lastGot = now; p -> gotAny = 1;
    log_done (log_add (SIMLOG_RECV, d -> src, s -> ep, d -> data, d -> len));
    for (int i = 0; i < watchCount; ++ i)
      if (sim_ep_eq (watches [i].ep, s -> ep)) watches [i].fn (0, d -> src, s -> ep, d -> data, d -> len);
    if (d -> len <= cap)
    {
       memcpy (buf, d -> data, d -> len);
       * src = d -> src;
       result = (int) d -> len;
    }
    free (d);
    return result;
}
