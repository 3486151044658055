/* ENet's wire format, decoded without ENet's headers (the constants are the protocol's, the
   same in both ENets): for the traces and for what the invariants read off the server's
   datagrams (VERIFY_CONNECT offers, DISCONNECTs). Compressed datagrams are decompressed with
   the stock range coder; checksums are checked with the stock enet_crc32. */
#ifndef SIM_WIRE_H
#define SIM_WIRE_H
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "simnet.h"

enum {
    CMD_ACKNOWLEDGE = 1, CMD_CONNECT = 2, CMD_VERIFY_CONNECT = 3, CMD_DISCONNECT = 4, CMD_PING = 5,
    CMD_SEND_RELIABLE = 6, CMD_SEND_UNRELIABLE = 7, CMD_SEND_FRAGMENT = 8, CMD_SEND_UNSEQUENCED = 9,
    CMD_BANDWIDTH_LIMIT = 10, CMD_THROTTLE_CONFIGURE = 11, CMD_SEND_UNRELIABLE_FRAGMENT = 12, CMD_COUNT = 13,
    CMD_FLAG_ACKNOWLEDGE = 0x80, CMD_FLAG_UNSEQUENCED = 0x40,
    HDR_FLAG_COMPRESSED = 1 << 14, HDR_FLAG_SENT_TIME = 1 << 15, HDR_SESSION_SHIFT = 12, HDR_PEER_MASK = 0xFFF,
    SIZE_ACKNOWLEDGE = 8, SIZE_CONNECT = 48, SIZE_VERIFY_CONNECT = 44, SIZE_DISCONNECT = 8, SIZE_PING = 4
};

typedef struct {
    uint8_t  number, flags, channel;
    uint16_t reliableSequence;
    const uint8_t * at;        /* the command in wire_datagram.payload */
    size_t   size, dataLength;
} wire_command;

typedef struct {
    int      ok;               /* header parsed (and decompressed, if compressed) */
    uint16_t peerID;           /* header peer ID, without flags and session */
    uint8_t  session;
    int      compressed, hasSentTime;
    uint16_t sentTime;
    size_t   headerSize;       /* including the checksum field when checksums are on */
    uint8_t  header [12];
    uint8_t  payload [4096];   /* the commands, decompressed */
    size_t   payloadLength;
    int      commandCount, truncated;
    wire_command commands [64];
} wire_datagram;

extern int wire_checksums;     /* both sides of the run use enet_crc32 */

int wire_parse (const uint8_t * data, size_t length, wire_datagram * out);
/* Would a receiver holding connect ID cid (0 for peer ID 0xFFF) accept the checksum? 1 if
   checksums are off. */
int wire_checksum_ok (const wire_datagram * d, uint32_t cid);
void wire_format (sim_ep src, sim_ep dst, const uint8_t * data, size_t length, char * out, size_t cap);

static inline uint16_t rd16 (const uint8_t * p) { return (uint16_t) ((p [0] << 8) | p [1]); }
static inline uint32_t rd32 (const uint8_t * p) { return ((uint32_t) p [0] << 24) | ((uint32_t) p [1] << 16) | ((uint32_t) p [2] << 8) | p [3]; }
/* A connect ID as ENet holds it: its wire bytes copied into a uint32 (never byte-swapped). */
static inline uint32_t raw32 (const uint8_t * p) { uint32_t v; memcpy (& v, p, 4); return v; }
static inline void wr16 (uint8_t * p, uint16_t v) { p [0] = v >> 8; p [1] = (uint8_t) v; }
static inline void wr32 (uint8_t * p, uint32_t v) { p [0] = v >> 24; p [1] = v >> 16; p [2] = v >> 8; p [3] = (uint8_t) v; }
#endif
