/** 
 @file  win32.c
 @brief ENet Win32 system specific functions
*/
#ifdef _WIN32

/* rand_s (the system's RtlGenRandom) for the handshake secret: declared only with this, before
   the first <stdlib.h> (local patch 0023). */
#define _CRT_RAND_S 1
#include <stdlib.h>

#define ENET_BUILDING_LIB 1
#include "enet/enet.h"
#include <windows.h>
#include <mmsystem.h>
#include <ws2tcpip.h>

static enet_uint32 timeBase = 0;

int
enet_initialize (void)
{
    WORD versionRequested = MAKEWORD (1, 1);
    WSADATA wsaData;
   
    if (WSAStartup (versionRequested, & wsaData))
       return -1;

    if (LOBYTE (wsaData.wVersion) != 1||
        HIBYTE (wsaData.wVersion) != 1)
    {
       WSACleanup ();
       
       return -1;
    }

    timeBeginPeriod (1);

    return 0;
}

void
enet_deinitialize (void)
{
    timeEndPeriod (1);

    WSACleanup ();
}

enet_uint32
enet_host_random_seed (void)
{
    return (enet_uint32) timeGetTime ();
}

void
enet_host_random_secret (enet_uint32 * secret, size_t count)
{
    size_t i;
    LARGE_INTEGER counter;

    /* The system's random source (rand_s, RtlGenRandom), mixed with the high-resolution clock
       and the process, which alone are what a word gets if rand_s fails. */
    QueryPerformanceCounter (& counter);
    for (i = 0; i < count; ++ i)
    {
      unsigned int word = 0;

      (void) rand_s (& word);
      secret [i] ^= (enet_uint32) word;
      secret [i] ^= (enet_uint32) counter.LowPart * 2654435761U + (enet_uint32) counter.HighPart + (enet_uint32) GetCurrentProcessId () * (i + 1) + (enet_uint32) timeGetTime ();
    }
}

enet_uint32
enet_time_get (void)
{
    return (enet_uint32) timeGetTime () - timeBase;
}

void
enet_time_set (enet_uint32 newTimeBase)
{
    timeBase = (enet_uint32) timeGetTime () - newTimeBase;
}

/* An IPv4 address a.b.c.d is held as ::ffff:a.b.c.d; the unspecified address (all zeros) is
   also the IPv4 INADDR_ANY. */
static const enet_uint8 ipv4MappedPrefix [12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF };
static const enet_uint8 anyHost [16] = { 0 };

static int
enet_address_is_ipv4 (const ENetAddress * address)
{
    return ! memcmp (address -> host, ipv4MappedPrefix, sizeof (ipv4MappedPrefix)) ||
           ! memcmp (address -> host, anyHost, sizeof (anyHost));
}

static void
enet_address_set_ipv4 (ENetAddress * address, const void * in)
{
    memcpy (address -> host, ipv4MappedPrefix, sizeof (ipv4MappedPrefix));
    memcpy (& address -> host [12], in, 4);
    address -> scopeID = 0;
}

size_t
enet_address_to_socket_address (const ENetAddress * address, ENetAddressFamily family, void * sockAddr)
{
    if (family == ENET_ADDRESS_FAMILY_IPV4)
    {
        struct sockaddr_in * sin = (struct sockaddr_in *) sockAddr;

        if (! enet_address_is_ipv4 (address))
        {
            WSASetLastError (WSAEAFNOSUPPORT);
            return 0;
        }

        memset (sin, 0, sizeof (struct sockaddr_in));
        sin -> sin_family = AF_INET;
        sin -> sin_port = ENET_HOST_TO_NET_16 (address -> port);
        memcpy (& sin -> sin_addr, & address -> host [12], 4);

        return sizeof (struct sockaddr_in);
    }
    else
    {
        /* IPv4 peers too: an AF_INET6 socket takes only a sockaddr_in6 (macOS and the
           BSDs refuse a sockaddr_in even where Linux accepts one). */
        struct sockaddr_in6 * sin6 = (struct sockaddr_in6 *) sockAddr;

        memset (sin6, 0, sizeof (struct sockaddr_in6));
        sin6 -> sin6_family = AF_INET6;
        sin6 -> sin6_port = ENET_HOST_TO_NET_16 (address -> port);
        memcpy (& sin6 -> sin6_addr, address -> host, sizeof (address -> host));
        sin6 -> sin6_scope_id = address -> scopeID;

        return sizeof (struct sockaddr_in6);
    }
}

int
enet_address_from_socket_address (ENetAddress * address, const void * sockAddr)
{
    switch (((const struct sockaddr *) sockAddr) -> sa_family)
    {
    case AF_INET:
    {
        const struct sockaddr_in * sin = (const struct sockaddr_in *) sockAddr;

        enet_address_set_ipv4 (address, & sin -> sin_addr);
        address -> port = ENET_NET_TO_HOST_16 (sin -> sin_port);

        return 0;
    }

    case AF_INET6:
    {
        const struct sockaddr_in6 * sin6 = (const struct sockaddr_in6 *) sockAddr;

        memcpy (address -> host, & sin6 -> sin6_addr, sizeof (address -> host));
        address -> port = ENET_NET_TO_HOST_16 (sin6 -> sin6_port);
        address -> scopeID = sin6 -> sin6_scope_id;

        return 0;
    }

    default:
        return -1;
    }
}

static int
enet_address_set_host_ip6 (ENetAddress * address, const char * name)
{
    struct addrinfo hints, * resultList = NULL;
    int result = -1;

    memset (& hints, 0, sizeof (hints));
    hints.ai_family = AF_INET6;
    hints.ai_flags = AI_NUMERICHOST;

    if (getaddrinfo (name, NULL, & hints, & resultList) != 0)
      return -1;

    if (resultList != NULL && resultList -> ai_family == AF_INET6 && resultList -> ai_addrlen >= sizeof (struct sockaddr_in6))
    {
        memcpy (address -> host, & ((struct sockaddr_in6 *) resultList -> ai_addr) -> sin6_addr, sizeof (address -> host));
        address -> scopeID = 0;
        result = 0;
    }

    freeaddrinfo (resultList);

    return result;
}

int
enet_address_set_host_ip (ENetAddress * address, const char * name)
{
    enet_uint8 vals [4] = { 0, 0, 0, 0 };
    const char * text = name;
    int i;

    for (i = 0; i < 4; ++ i)
    {
        const char * next = name + 1;
        if (* name != '0')
        {
            long val = strtol (name, (char **) & next, 10);
            if (val < 0 || val > 255 || next == name || next - name > 3)
              return enet_address_set_host_ip6 (address, text);
            vals [i] = (enet_uint8) val;
        }

        if (* next != (i < 3 ? '.' : '\0'))
          return enet_address_set_host_ip6 (address, text);
        name = next + 1;
    }

    enet_address_set_ipv4 (address, vals);
    return 0;
}

int
enet_address_set_host (ENetAddress * address, const char * name)
{
    struct addrinfo hints, * resultList = NULL, * result = NULL, * ipv6Result = NULL;
    int error;

    /* A numeric address needs no lookup, and getaddrinfo with AI_ADDRCONFIG may refuse one
       where IPv4 has only the loopback address (Windows does not count it either). */
    if (enet_address_set_host_ip (address, name) == 0)
      return 0;

    memset (& hints, 0, sizeof (hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_DGRAM;
#ifdef AI_ADDRCONFIG
    hints.ai_flags = AI_ADDRCONFIG;
#endif

    error = getaddrinfo (name, NULL, & hints, & resultList);
#ifdef AI_ADDRCONFIG
    /* AI_ADDRCONFIG leaves out every address of a family that no interface but the
       loopback one has, so where lo is the only interface, or IPv4 has only loopback (an
       IPv6-only host), a name can resolve to nothing, or be asked of DNS for the other
       family alone and fail (EAI_AGAIN when no server answers): ask again without it.
       Other failures are final. */
    if (error == EAI_NONAME || error == EAI_AGAIN
#ifdef EAI_NODATA
        || error == EAI_NODATA
#endif
#ifdef EAI_ADDRFAMILY
        || error == EAI_ADDRFAMILY
#endif
        )
    {
        hints.ai_flags = 0;
        resultList = NULL;
        error = getaddrinfo (name, NULL, & hints, & resultList);
    }
#endif
    if (error != 0)
      return -1;

    /* The first IPv4 address (what programs written for an IPv4-only ENet expect of a
       name that has both), else the first IPv6 one. */
    for (result = resultList; result != NULL; result = result -> ai_next)
    {
        if (result -> ai_addr == NULL)
          continue;

        if (result -> ai_family == AF_INET && result -> ai_addrlen >= sizeof (struct sockaddr_in))
          break;

        if (result -> ai_family == AF_INET6 && result -> ai_addrlen >= sizeof (struct sockaddr_in6) && ipv6Result == NULL)
          ipv6Result = result;
    }

    if (result == NULL)
      result = ipv6Result;

    if (result != NULL)
    {
        if (result -> ai_family == AF_INET)
          enet_address_set_ipv4 (address, & ((struct sockaddr_in *) result -> ai_addr) -> sin_addr);
        else
        {
            struct sockaddr_in6 * sin6 = (struct sockaddr_in6 *) result -> ai_addr;

            memcpy (address -> host, & sin6 -> sin6_addr, sizeof (address -> host));
            address -> scopeID = sin6 -> sin6_scope_id;
        }

        freeaddrinfo (resultList);

        return 0;
    }

    if (resultList != NULL)
      freeaddrinfo (resultList);

    return enet_address_set_host_ip (address, name);
}

int
enet_address_get_host_ip (const ENetAddress * address, char * name, size_t nameLength)
{
    struct in_addr in;
    char * addr;

    if (! enet_address_is_ipv4 (address))
    {
        struct sockaddr_in6 sin6;

        memset (& sin6, 0, sizeof (struct sockaddr_in6));
        sin6.sin6_family = AF_INET6;
        memcpy (& sin6.sin6_addr, address -> host, sizeof (address -> host));

        return getnameinfo ((struct sockaddr *) & sin6, sizeof (sin6), name, (DWORD) nameLength, NULL, 0, NI_NUMERICHOST) ? -1 : 0;
    }

    memcpy (& in, & address -> host [12], 4);
    addr = inet_ntoa (in);
    if (addr == NULL)
        return -1;
    else
    {
        size_t addrLen = strlen(addr);
        if (addrLen >= nameLength)
          return -1;
        memcpy (name, addr, addrLen + 1);
    }
    return 0;
}

int
enet_address_get_host (const ENetAddress * address, char * name, size_t nameLength)
{
    struct in_addr in;
    struct hostent * hostEntry;
 
    if (! enet_address_is_ipv4 (address))
      return enet_address_get_host_ip (address, name, nameLength);

    memcpy (& in, & address -> host [12], 4);

    hostEntry = gethostbyaddr ((char *) & in, sizeof (struct in_addr), AF_INET);
    if (hostEntry == NULL)
      return enet_address_get_host_ip (address, name, nameLength);
    else
    {
       size_t hostLen = strlen (hostEntry -> h_name);
       if (hostLen >= nameLength)
         return -1;
       memcpy (name, hostEntry -> h_name, hostLen + 1);
    }

    return 0;
}

int
enet_socket_bind (ENetSocket socket, ENetAddressFamily family, const ENetAddress * address)
{
    struct sockaddr_storage sockAddr;
    int sockAddrLength;
    ENetAddress anyAddress;

    if (address == NULL)
    {
       memset (& anyAddress, 0, sizeof (anyAddress));
       address = & anyAddress;
    }

    sockAddrLength = enet_address_to_socket_address (address, family, & sockAddr);
    if (sockAddrLength == 0)
      return -1;

    return bind (socket,
                 (struct sockaddr *) & sockAddr,
                 sockAddrLength) == SOCKET_ERROR ? -1 : 0;
}

int
enet_socket_get_address (ENetSocket socket, ENetAddress * address)
{
    struct sockaddr_storage sockAddr;
    int sockAddrLength = sizeof (sockAddr);

    if (getsockname (socket, (struct sockaddr *) & sockAddr, & sockAddrLength) == -1)
      return -1;

    return enet_address_from_socket_address (address, & sockAddr);
}

int
enet_socket_listen (ENetSocket socket, int backlog)
{
    return listen (socket, backlog < 0 ? SOMAXCONN : backlog) == SOCKET_ERROR ? -1 : 0;
}

ENetSocket
enet_socket_create (ENetSocketType type, ENetAddressFamily family)
{
    ENetSocket result = socket (family == ENET_ADDRESS_FAMILY_IPV4 ? PF_INET : PF_INET6, type == ENET_SOCKET_TYPE_DATAGRAM ? SOCK_DGRAM : SOCK_STREAM, 0);
    int v6Only = family == ENET_ADDRESS_FAMILY_IPV6;

    /* Windows sets IPV6_V6ONLY by default; a DUAL socket that cannot clear it is useless. */
    if (result != INVALID_SOCKET && family != ENET_ADDRESS_FAMILY_IPV4 &&
        setsockopt (result, IPPROTO_IPV6, IPV6_V6ONLY, (char *) & v6Only, sizeof (int)) == SOCKET_ERROR &&
        family == ENET_ADDRESS_FAMILY_DUAL)
    {
        closesocket (result);

        return ENET_SOCKET_NULL;
    }

    return result;
}

int
enet_socket_set_option (ENetSocket socket, ENetSocketOption option, int value)
{
    int result = SOCKET_ERROR;
    switch (option)
    {
        case ENET_SOCKOPT_NONBLOCK:
        {
            u_long nonBlocking = (u_long) value;
            result = ioctlsocket (socket, FIONBIO, & nonBlocking);
            break;
        }

        case ENET_SOCKOPT_BROADCAST:
            result = setsockopt (socket, SOL_SOCKET, SO_BROADCAST, (char *) & value, sizeof (int));
            break;

        case ENET_SOCKOPT_REUSEADDR:
            result = setsockopt (socket, SOL_SOCKET, SO_REUSEADDR, (char *) & value, sizeof (int));
            break;

        case ENET_SOCKOPT_RCVBUF:
            result = setsockopt (socket, SOL_SOCKET, SO_RCVBUF, (char *) & value, sizeof (int));
            break;

        case ENET_SOCKOPT_SNDBUF:
            result = setsockopt (socket, SOL_SOCKET, SO_SNDBUF, (char *) & value, sizeof (int));
            break;

        case ENET_SOCKOPT_RCVTIMEO:
            result = setsockopt (socket, SOL_SOCKET, SO_RCVTIMEO, (char *) & value, sizeof (int));
            break;

        case ENET_SOCKOPT_SNDTIMEO:
            result = setsockopt (socket, SOL_SOCKET, SO_SNDTIMEO, (char *) & value, sizeof (int));
            break;

        case ENET_SOCKOPT_NODELAY:
            result = setsockopt (socket, IPPROTO_TCP, TCP_NODELAY, (char *) & value, sizeof (int));
            break;

        case ENET_SOCKOPT_TTL:
            result = setsockopt (socket, IPPROTO_IP, IP_TTL, (char *) & value, sizeof (int));
            break;

        default:
            break;
    }
    return result == SOCKET_ERROR ? -1 : 0;
}

int
enet_socket_get_option (ENetSocket socket, ENetSocketOption option, int * value)
{
    int result = SOCKET_ERROR, len;
    switch (option)
    {
        case ENET_SOCKOPT_ERROR:
            len = sizeof(int);
            result = getsockopt (socket, SOL_SOCKET, SO_ERROR, (char *) value, & len);
            break;

        case ENET_SOCKOPT_RCVBUF:
            len = sizeof (int);
            result = getsockopt (socket, SOL_SOCKET, SO_RCVBUF, (char *) value, & len);
            break;

        case ENET_SOCKOPT_SNDBUF:
            len = sizeof (int);
            result = getsockopt (socket, SOL_SOCKET, SO_SNDBUF, (char *) value, & len);
            break;

        case ENET_SOCKOPT_TTL:
            len = sizeof(int);
            result = getsockopt (socket, IPPROTO_IP, IP_TTL, (char *) value, & len);
            break;

        default:
            break;
    }
    return result == SOCKET_ERROR ? -1 : 0;
}

int
enet_socket_connect (ENetSocket socket, ENetAddressFamily family, const ENetAddress * address)
{
    struct sockaddr_storage sockAddr;
    int sockAddrLength = enet_address_to_socket_address (address, family, & sockAddr);
    int result;

    if (sockAddrLength == 0)
      return -1;

    result = connect (socket, (struct sockaddr *) & sockAddr, sockAddrLength);
    if (result == SOCKET_ERROR && WSAGetLastError () != WSAEWOULDBLOCK)
      return -1;

    return 0;
}

ENetSocket
enet_socket_accept (ENetSocket socket, ENetAddress * address)
{
    SOCKET result;
    struct sockaddr_storage sockAddr;
    int sockAddrLength = sizeof (sockAddr);

    result = accept (socket, 
                     address != NULL ? (struct sockaddr *) & sockAddr : NULL, 
                     address != NULL ? & sockAddrLength : NULL);

    if (result == INVALID_SOCKET)
      return ENET_SOCKET_NULL;

    if (address != NULL)
      enet_address_from_socket_address (address, & sockAddr);

    return result;
}

int
enet_socket_shutdown (ENetSocket socket, ENetSocketShutdown how)
{
    return shutdown (socket, (int) how) == SOCKET_ERROR ? -1 : 0;
}

void
enet_socket_destroy (ENetSocket socket)
{
    if (socket != INVALID_SOCKET)
      closesocket (socket);
}

int
enet_socket_send (ENetSocket socket,
                  ENetAddressFamily family,
                  const ENetAddress * address,
                  const ENetBuffer * buffers,
                  size_t bufferCount)
{
    struct sockaddr_storage sockAddr;
    int sockAddrLength = 0;
    DWORD sentLength = 0;

    if (address != NULL)
    {
        sockAddrLength = (int) enet_address_to_socket_address (address, family, & sockAddr);
        if (sockAddrLength == 0)
          return -1;
    }

    if (WSASendTo (socket, 
                   (LPWSABUF) buffers,
                   (DWORD) bufferCount,
                   & sentLength,
                   0,
                   address != NULL ? (struct sockaddr *) & sockAddr : NULL,
                   sockAddrLength,
                   NULL,
                   NULL) == SOCKET_ERROR)
    {
       if (WSAGetLastError () == WSAEWOULDBLOCK)
         return 0;

       return -1;
    }

    return (int) sentLength;
}

int
enet_socket_receive (ENetSocket socket,
                     ENetAddress * address,
                     ENetBuffer * buffers,
                     size_t bufferCount)
{
    INT sockAddrLength = sizeof (struct sockaddr_storage);
    DWORD flags = 0,
          recvLength = 0;
    struct sockaddr_storage sockAddr;

    if (WSARecvFrom (socket,
                     (LPWSABUF) buffers,
                     (DWORD) bufferCount,
                     & recvLength,
                     & flags,
                     address != NULL ? (struct sockaddr *) & sockAddr : NULL,
                     address != NULL ? & sockAddrLength : NULL,
                     NULL,
                     NULL) == SOCKET_ERROR)
    {
       switch (WSAGetLastError ())
       {
       case WSAEWOULDBLOCK:
       case WSAECONNRESET:
          return 0;
       case WSAEINTR:
       case WSAEMSGSIZE:
          return -2;
       default:
          return -1;
       }
    }

    if (flags & MSG_PARTIAL)
      return -2;

    if (address != NULL && enet_address_from_socket_address (address, & sockAddr) < 0)
      return -2;

    return (int) recvLength;
}

int
enet_socketset_select (ENetSocket maxSocket, ENetSocketSet * readSet, ENetSocketSet * writeSet, enet_uint32 timeout)
{
    struct timeval timeVal;

    timeVal.tv_sec = timeout / 1000;
    timeVal.tv_usec = (timeout % 1000) * 1000;

    return select (maxSocket + 1, readSet, writeSet, NULL, & timeVal);
}

int
enet_socket_wait (ENetSocket socket, enet_uint32 * condition, enet_uint32 timeout)
{
    fd_set readSet, writeSet;
    struct timeval timeVal;
    int selectCount;
    
    timeVal.tv_sec = timeout / 1000;
    timeVal.tv_usec = (timeout % 1000) * 1000;
    
    FD_ZERO (& readSet);
    FD_ZERO (& writeSet);

    if (* condition & ENET_SOCKET_WAIT_SEND)
      FD_SET (socket, & writeSet);

    if (* condition & ENET_SOCKET_WAIT_RECEIVE)
      FD_SET (socket, & readSet);

    selectCount = select (socket + 1, & readSet, & writeSet, NULL, & timeVal);

    if (selectCount < 0)
      return -1;

    * condition = ENET_SOCKET_WAIT_NONE;

    if (selectCount == 0)
      return 0;

    if (FD_ISSET (socket, & writeSet))
      * condition |= ENET_SOCKET_WAIT_SEND;
    
    if (FD_ISSET (socket, & readSet))
      * condition |= ENET_SOCKET_WAIT_RECEIVE;

    return 0;
} 

#endif

