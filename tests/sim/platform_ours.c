/* The platform layer of our ENet (vendor/enet) in the simulation: it replaces vendor/enet/unix.c.
   Time is simnet's virtual clock, sockets are simnet sockets (an ENetSocket is a simnet socket
   index), nothing ever blocks, addresses are numeric only, and the randomness ENet asks the
   system for comes from the run's seed, so that a seed replays exactly.

   This tree's ENetAddress is IPv6-capable: an IPv4 address a.b.c.d is held v4-mapped,
   ::ffff:a.b.c.d (as unix.c's enet_address_set_ipv4 does). The simulated network is IPv4 only. */
#define ENET_BUILDING_LIB 1
#include <stdio.h>
#include <string.h>
#include "enet/enet.h"
#include "simnet.h"
#include "platform.h"

static sim_rng platformRng;
static enet_uint32 timeBase;

/* clockStart: what enet_time_get says at virtual time 0 (--clock-start: near 2^32, the run
   crosses the wrap of ENet's clock) */
void sim_ours_platform_seed (uint64_t seed, uint32_t clockStart) { rng_seed (& platformRng, seed); timeBase = (enet_uint32) 0 - clockStart; }
uint32_t sim_ours_platform_random (void) { return (uint32_t) rng_next (& platformRng); }

int enet_initialize (void) { return 0; }
void enet_deinitialize (void) { }

enet_uint32 enet_host_random_seed (void) { return (enet_uint32) rng_next (& platformRng); }

void
enet_host_random_secret (enet_uint32 * secret, size_t count)
{
    for (size_t i = 0; i < count; ++ i)
      secret [i] = (enet_uint32) rng_next (& platformRng);
}

enet_uint32 enet_time_get (void) { return simnet_now () - timeBase; }
void enet_time_set (enet_uint32 newTimeBase) { timeBase = simnet_now () - newTimeBase; }

static const enet_uint8 ipv4MappedPrefix [12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF };

/* ENetAddress <-> simnet endpoint. The any address (::) binds the server's own IP. */
static int
to_ep (const ENetAddress * address, sim_ep * ep)
{
    static const enet_uint8 anyHost [16] = { 0 };
    if (memcmp (address -> host, ipv4MappedPrefix, sizeof (ipv4MappedPrefix)) &&
        memcmp (address -> host, anyHost, sizeof (anyHost)))
      return -1;
    ep -> ip = ((uint32_t) address -> host [12] << 24) | ((uint32_t) address -> host [13] << 16) |
               ((uint32_t) address -> host [14] << 8) | address -> host [15];
    ep -> port = address -> port;
    return 0;
}

static void
from_ep (ENetAddress * address, sim_ep ep)
{
    memcpy (address -> host, ipv4MappedPrefix, sizeof (ipv4MappedPrefix));
    address -> host [12] = ep.ip >> 24; address -> host [13] = ep.ip >> 16;
    address -> host [14] = ep.ip >> 8;  address -> host [15] = ep.ip;
    address -> port = ep.port;
    address -> scopeID = 0;
}

void sim_ours_address (void * address, uint32_t ip, uint16_t port) { sim_ep ep = { ip, port }; from_ep ((ENetAddress *) address, ep); }

size_t enet_address_to_socket_address (const ENetAddress * address, ENetAddressFamily family, void * sockAddr) { return 0; }
int enet_address_from_socket_address (ENetAddress * address, const void * sockAddr) { return -1; }

int
enet_address_set_host_ip (ENetAddress * address, const char * name)
{
    unsigned a, b, c, d;
    char tail;
    if (sscanf (name, "%u.%u.%u.%u%c", & a, & b, & c, & d, & tail) != 4 || a > 255 || b > 255 || c > 255 || d > 255)
      return -1;
    sim_ep ep = { (a << 24) | (b << 16) | (c << 8) | d, address -> port };
    from_ep (address, ep);
    return 0;
}

int enet_address_set_host (ENetAddress * address, const char * name) { return enet_address_set_host_ip (address, name); }

int
enet_address_get_host_ip (const ENetAddress * address, char * name, size_t nameLength)
{
    sim_ep ep;
    if (to_ep (address, & ep) < 0 || snprintf (name, nameLength, "%u.%u.%u.%u", ep.ip >> 24, (ep.ip >> 16) & 255, (ep.ip >> 8) & 255, ep.ip & 255) >= (int) nameLength)
      return -1;
    return 0;
}

int enet_address_get_host (const ENetAddress * address, char * name, size_t nameLength) { return enet_address_get_host_ip (address, name, nameLength); }

ENetSocket enet_socket_create (ENetSocketType type, ENetAddressFamily family)
{
    /* The simulated network is IPv4: a dual-stack socket is refused, so host.c falls back to
       an IPv4 one, as on a system without IPv6. */
    if (type != ENET_SOCKET_TYPE_DATAGRAM || family != ENET_ADDRESS_FAMILY_IPV4)
      return ENET_SOCKET_NULL;
    return simnet_socket ();
}

int
enet_socket_bind (ENetSocket socket, ENetAddressFamily family, const ENetAddress * address)
{
    sim_ep ep = { 0, 0 };
    if (address != NULL && to_ep (address, & ep) < 0) return -1;
    return simnet_bind (socket, ep);
}

int
enet_socket_get_address (ENetSocket socket, ENetAddress * address)
{
    from_ep (address, simnet_local (socket));
    return 0;
}

int enet_socket_listen (ENetSocket socket, int backlog) { return -1; }
ENetSocket enet_socket_accept (ENetSocket socket, ENetAddress * address) { return ENET_SOCKET_NULL; }
int enet_socket_connect (ENetSocket socket, ENetAddressFamily family, const ENetAddress * address) { return -1; }
int enet_socket_set_option (ENetSocket socket, ENetSocketOption option, int value) { return 0; }
int enet_socket_get_option (ENetSocket socket, ENetSocketOption option, int * value) { * value = 0; return 0; }
int enet_socket_shutdown (ENetSocket socket, ENetSocketShutdown how) { return 0; }
void enet_socket_destroy (ENetSocket socket) { if (socket != ENET_SOCKET_NULL) simnet_close (socket); }

int
enet_socket_send (ENetSocket socket, ENetAddressFamily family, const ENetAddress * address, const ENetBuffer * buffers, size_t bufferCount)
{
    sim_iov iov [ENET_BUFFER_MAXIMUM];
    sim_ep ep;
    if (to_ep (address, & ep) < 0 || bufferCount > ENET_BUFFER_MAXIMUM) return -1;
    for (size_t i = 0; i < bufferCount; ++ i) { iov [i].data = buffers [i].data; iov [i].len = buffers [i].dataLength; }
    return simnet_send (socket, ep, iov, bufferCount);
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

/* Never blocks: the scheduler, not the host, decides when virtual time moves. */
int
enet_socket_wait (ENetSocket socket, enet_uint32 * condition, enet_uint32 timeout)
{
    * condition = (* condition & ENET_SOCKET_WAIT_RECEIVE) && simnet_pending (socket) ? ENET_SOCKET_WAIT_RECEIVE : ENET_SOCKET_WAIT_NONE;
    return 0;
}
