/* Off-path attackers: they forge datagrams with any source endpoint and never read what the
   server sends. What they know is public: the server's endpoint and slot count, whether it
   checksums and compresses, and the IP addresses (not the ports) of some honest clients. */
#ifndef SIM_ATTACK_H
#define SIM_ATTACK_H
#include <stdint.h>
#include "simnet.h"

enum {
    ATK_CONNECT,        /* forged CONNECTs: random connect IDs, client peer IDs (0xFFF too), sessions */
    ATK_ACK,            /* ACK guesses: reliable 1, channel 0xFF, random echoes, to random or likely slots */
    ATK_CONNECT_ACKS,   /* a CONNECT followed by ACKs with random echoes, in one datagram */
    ATK_COMPRESSED,     /* a range-coded CONNECT that decompresses to far more than its size, then tiny datagrams */
    ATK_GARBAGE,        /* random bytes */
    ATK_PILE,           /* one fixed forged endpoint: a CONNECT (peer id 0xFFF, fresh connect ID), then a
                           DISCONNECT to a likely slot, which ends its record ("the client left") and frees
                           the label for the next: ended records pile up in that endpoint's hash chain.
                           Drawn only by --scenario pile (attack review, finding 1) */
    ATK_KINDS
};

typedef struct {
    double rate [ATK_KINDS];   /* datagrams (or attacks) per second; 0: off */
    double victimShare;        /* of forged sources: a victim client's IP with a random port */
    int    peerIdMode;         /* forged CONNECTs' client peer ID: 0 random 0..3, 1 always 0xFFF, 2 mixed */
    int    acksPerDatagram;    /* most ACKs in one ATK_ACK / ATK_CONNECT_ACKS datagram */
} attack_config;

extern const char * const attack_names [ATK_KINDS];

void attack_init (uint64_t seed, const attack_config * config, sim_ep server, uint32_t slots, int checksum, int compress);
void attack_add_victim (uint32_t ip);
/* The harness says which endpoints are honest: a forged source never is one exactly. */
void attack_set_honest_filter (int (* honest) (sim_ep));
void attack_fire (int kind);
/* Follow-up datagrams an attack scheduled (ATK_COMPRESSED's tiny datagrams): the time of the
   next, or UINT32_MAX; attack_followup sends the next one due. */
uint32_t attack_next_followup (void);
void attack_followup (void);
uint64_t attack_sent (int kind);
#endif
