/* Honest clients: pristine stock ENet 1.3.17 (vendor/enet/upstream) behind plain-C functions.
   Compiled with -include rename.h (generated from upstream's sources by tests/sim.rs: every
   enet_* identifier becomes stock_enet_*) and -Ivendor/enet/upstream/include, so the stock
   structures never meet ours. */
#include <string.h>
#include "enet/enet.h"
#include "client.h"
#include "server.h"   /* EV_* */
#include "platform.h"

static ENetHost ** hosts;
static int hostCount, hostCap;

int
client_create (sim_ep ep, size_t peers, size_t channelLimit, int checksum, int compress, uint32_t seed)
{
    ENetAddress address;
    ENetHost * host;
    static int initialized;

    if (! initialized) { enet_initialize (); initialized = 1; }
    sim_stock_address (& address, ep.ip, ep.port);
    host = enet_host_create (& address, peers, channelLimit, 0, 0);
    if (host == NULL) return -1;
    /* host.c mixes the host's heap address into its seed: the run's seed instead. */
    host -> randomSeed = seed;
    if (checksum) host -> checksum = enet_crc32;
    if (compress) enet_host_compress_with_range_coder (host);
    if (hostCount == hostCap)
    {
       hostCap = hostCap ? hostCap * 2 : 16;
       hosts = realloc (hosts, hostCap * sizeof (ENetHost *));
    }
    hosts [hostCount] = host;
    return hostCount ++;
}

void
client_destroy (int handle)
{
    if (hosts [handle] != NULL) enet_host_destroy (hosts [handle]);
    hosts [handle] = NULL;
    if (handle == hostCount - 1)
      while (hostCount > 0 && hosts [hostCount - 1] == NULL) -- hostCount;
    if (hostCount == 0) { free (hosts); hosts = NULL; hostCap = 0; }
}

int
client_connect (int handle, sim_ep server, size_t channels, uint32_t data, uint16_t * peerIndex, uint32_t * cid)
{
    ENetAddress address;
    ENetPeer * peer;
    sim_stock_address (& address, server.ip, server.port);
    peer = enet_host_connect (hosts [handle], & address, channels, data);
    if (peer == NULL) return -1;
    * peerIndex = peer -> incomingPeerID;
    * cid = peer -> connectID;
    return 0;
}

int
client_service (int handle, client_event * out)
{
    ENetEvent event;
    int r = enet_host_service (hosts [handle], & event, 0);
    memset (out, 0, offsetof (client_event, bytes));
    if (r <= 0) return 0;
    out -> type = event.type == ENET_EVENT_TYPE_CONNECT ? EV_CONNECT : event.type == ENET_EVENT_TYPE_DISCONNECT ? EV_DISCONNECT : EV_RECEIVE;
    out -> peer = event.peer -> incomingPeerID;
    out -> channel = event.channelID;
    out -> data = event.data;
    if (event.type == ENET_EVENT_TYPE_RECEIVE)
    {
       out -> length = event.packet -> dataLength;
       memcpy (out -> bytes, event.packet -> data, out -> length < sizeof (out -> bytes) ? out -> length : sizeof (out -> bytes));
       enet_packet_destroy (event.packet);
    }
    return 1;
}

int
client_send (int handle, uint16_t peerIndex, uint8_t channel, const void * data, size_t length)
{
    ENetPacket * packet = enet_packet_create (data, length, ENET_PACKET_FLAG_RELIABLE);
    if (packet == NULL) return -1;
    if (enet_peer_send (& hosts [handle] -> peers [peerIndex], channel, packet) < 0)
    {
       enet_packet_destroy (packet);
       return -1;
    }
    return 0;
}

void client_disconnect (int handle, uint16_t peerIndex) { enet_peer_disconnect (& hosts [handle] -> peers [peerIndex], 0); }
void client_reset (int handle, uint16_t peerIndex) { enet_peer_reset (& hosts [handle] -> peers [peerIndex]); }

void
client_peer (int handle, uint16_t peerIndex, client_peer_info * info)
{
    const ENetPeer * peer = & hosts [handle] -> peers [peerIndex];
    info -> state = peer -> state;
    info -> slot = peer -> outgoingPeerID;
    info -> inSession = peer -> incomingSessionID;
    info -> outSession = peer -> outgoingSessionID;
    info -> cid = peer -> connectID;
    info -> rtt = peer -> roundTripTime;
    info -> channels = peer -> channelCount;
}

/* ---- stock utilities: what an attacker or a packet dissector would use ---- */

uint32_t
stock_crc32 (const void * data, size_t length)
{
    ENetBuffer buffer;
    buffer.data = (void *) data;
    buffer.dataLength = length;
    return enet_crc32 (& buffer, 1);
}

static void * coder;

size_t
stock_compress (const void * data, size_t length, void * out, size_t cap)
{
    ENetBuffer buffer;
    if (coder == NULL) coder = enet_range_coder_create ();
    buffer.data = (void *) data;
    buffer.dataLength = length;
    return enet_range_coder_compress (coder, & buffer, 1, length, out, cap);
}

size_t
stock_decompress (const void * data, size_t length, void * out, size_t cap)
{
    if (coder == NULL) coder = enet_range_coder_create ();
    return enet_range_coder_decompress (coder, data, length, out, cap);
}
