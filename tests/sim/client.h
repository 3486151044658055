/* The honest clients: stock ENet (vendor/enet/upstream, pristine, every enet_* renamed
   stock_enet_*), and stock utilities the attackers and the wire decoder borrow. Plain C. */
#ifndef SIM_CLIENT_H
#define SIM_CLIENT_H
#include <stddef.h>
#include <stdint.h>
#include "simnet.h"

typedef struct {
    int      type;             /* EV_CONNECT, EV_DISCONNECT, EV_RECEIVE (server.h) */
    uint16_t peer;             /* the client peer's index (its incomingPeerID) */
    uint8_t  channel;
    uint32_t data;
    size_t   length;
    uint8_t  bytes [256];      /* a received packet's first bytes */
} client_event;

typedef struct {
    int      state;            /* ENetPeerState */
    uint16_t slot;             /* outgoingPeerID: the server's slot for it (0xFFF until VERIFY_CONNECT) */
    uint8_t  inSession, outSession;  /* incomingSessionID (what it checks on the server's datagrams), outgoingSessionID */
    uint32_t cid, rtt;
    size_t   channels;         /* channelCount: what the server's VERIFY_CONNECT allowed */
} client_peer_info;

int  client_create (sim_ep ep, size_t peers, size_t channelLimit, int checksum, int compress, uint32_t seed);
void client_destroy (int handle);
int  client_connect (int handle, sim_ep server, size_t channels, uint32_t data, uint16_t * peer, uint32_t * cid);
int  client_service (int handle, client_event * event);
int  client_send (int handle, uint16_t peer, uint8_t channel, const void * data, size_t length);
void client_disconnect (int handle, uint16_t peer);
void client_reset (int handle, uint16_t peer);
void client_peer (int handle, uint16_t peer, client_peer_info * info);

uint32_t stock_crc32 (const void * data, size_t length);
size_t   stock_compress (const void * data, size_t length, void * out, size_t cap);
size_t   stock_decompress (const void * data, size_t length, void * out, size_t cap);
#endif
