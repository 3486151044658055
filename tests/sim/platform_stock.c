/* The platform layer of stock ENet (vendor/enet/upstream, pristine) in the simulation: it
   replaces upstream's unix.c. Compiled with rename.h forced in (-include), so every enet_*
   name here and in upstream's sources becomes stock_enet_* and both ENets link into one
   program. Upstream's ENetAddress is IPv4: host in network byte order, port in host order. */
#define ENET_BUILDING_LIB 1
#include <stdio.h>
#include <string.h>
#include "enet/enet.h"
#include "simnet.h"
#include "platform.h"

static sim_rng platformRng;
static enet_uint32 timeBase;

void sim_stock_platform_seed (uint64_t seed) { rng_seed (& platformRng, seed); timeBase = 0; }

int enet_initialize (void) { return 0; }
void enet_deinitialize (void) { }
enet_uint32 enet_host_random_seed (void) { return (enet_uint32) rng_next (& platformRng); }
enet_uint32 enet_time_get (void) { return simnet_now () - timeBase; }
void enet_time_set (enet_uint32 newTimeBase) { timeBase = simnet_now () - newTimeBase; }

static sim_ep to_ep (const ENetAddress * a) { sim_ep ep = { ENET_NET_TO_HOST_32 (a -> host), a -> port }; return ep; }
static void from_ep (ENetAddress * a, sim_ep ep) { a -> host = ENET_HOST_TO_NET_32 (ep.ip); a -> port = ep.port; }

void sim_stock_address (void * address, uint32_t ip, uint16_t port) { sim_ep ep = { ip, port }; from_ep ((ENetAddress *) address, ep); }

int
enet_address_set_host_ip (ENetAddress * address, const char * name)
{
    unsigned a, b, c, d;
    char tail;
    if (sscanf (name, "%u.%u.%u.%u%c", & a, & b, & c, & d, & tail) != 4 || a > 255 || b > 255 || c > 255 || d > 255)
      return -1;
    address -> host = ENET_HOST_TO_NET_32 ((a << 24) | (b << 16) | (c << 8) | d);
    return 0;
}

int enet_address_set_host (ENetAddress * address, const char * name) { return enet_address_set_host_ip (address, name); }

int
enet_address_get_host_ip (const ENetAddress * address, char * name, size_t nameLength)
{
    sim_ep ep = to_ep (address);
    return snprintf (name, nameLength, "%u.%u.%u.%u", ep.ip >> 24, (ep.ip >> 16) & 255, (ep.ip >> 8) & 255, ep.ip & 255) < (int) nameLength ? 0 : -1;
}

int enet_address_get_host (const ENetAddress * address, char * name, size_t nameLength) { return enet_address_get_host_ip (address, name, nameLength); }

ENetSocket enet_socket_create (ENetSocketType type) { return type == ENET_SOCKET_TYPE_DATAGRAM ? simnet_socket () : ENET_SOCKET_NULL; }
int enet_socket_bind (ENetSocket socket, const ENetAddress * address) { sim_ep ep = { 0, 0 }; if (address) ep = to_ep (address); return simnet_bind (socket, ep); }
int enet_socket_get_address (ENetSocket socket, ENetAddress * address) { from_ep (address, simnet_local (socket)); return 0; }
int enet_socket_listen (ENetSocket socket, int backlog) { return -1; }
ENetSocket enet_socket_accept (ENetSocket socket, ENetAddress * address) { return ENET_SOCKET_NULL; }
int enet_socket_connect (ENetSocket socket, const ENetAddress * address) { return -1; }
int enet_socket_set_option (ENetSocket socket, ENetSocketOption option, int value) { return 0; }
int enet_socket_get_option (ENetSocket socket, ENetSocketOption option, int * value) { * value = 0; return 0; }
int enet_socket_shutdown (ENetSocket socket, ENetSocketShutdown how) { return 0; }
void enet_socket_destroy (ENetSocket socket) { if (socket != ENET_SOCKET_NULL) simnet_close (socket); }

int
enet_socket_send (ENetSocket socket, const ENetAddress * address, const ENetBuffer * buffers, size_t bufferCount)
{
    sim_iov iov [ENET_BUFFER_MAXIMUM];
    if (bufferCount > ENET_BUFFER_MAXIMUM) return -1;
    for (size_t i = 0; i < bufferCount; ++ i) { iov [i].data = buffers [i].data; iov [i].len = buffers [i].dataLength; }
    return simnet_send (socket, to_ep (address), iov, bufferCount);
}

int
enet_socket_receive (ENetSocket socket, ENetAddress * address, ENetBuffer * buffers, size_t bufferCount)
{
    sim_ep ep;
    int n;
    if (bufferCount != 1) return -1;
    n = simnet_receive (socket, & ep, buffers [0].data, buffers [0].dataLength);
    if (n > 0 && address != NULL) from_ep (address, ep);
    return n;
}

int enet_socketset_select (ENetSocket maxSocket, ENetSocketSet * readSet, ENetSocketSet * writeSet, enet_uint32 timeout) { return 0; }

int
enet_socket_wait (ENetSocket socket, enet_uint32 * condition, enet_uint32 timeout)
{
    * condition = (* condition & ENET_SOCKET_WAIT_RECEIVE) && simnet_pending (socket) ? ENET_SOCKET_WAIT_RECEIVE : ENET_SOCKET_WAIT_NONE;
    return 0;
}
