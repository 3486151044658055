/** 
 @file  unix.c
 @brief ENet Unix system specific functions
*/
#ifndef _WIN32

/* glibc declares EAI_ADDRFAMILY and EAI_NODATA, which enet_address_set_host looks for, only
   with _GNU_SOURCE; C libraries that declare them anyway, or have none, ignore it. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/ioctl.h>
#include <sys/time.h>
#include <netinet/tcp.h>
#include <netdb.h>
#include <unistd.h>
#include <fcntl.h>
#include <string.h>
#include <errno.h>
#include <time.h>

#define ENET_BUILDING_LIB 1
#include "enet/enet.h"

#ifdef __APPLE__
#ifdef HAS_POLL
#undef HAS_POLL
#endif
#ifndef HAS_FCNTL
#define HAS_FCNTL 1
#endif
#ifndef HAS_INET_PTON
#define HAS_INET_PTON 1
#endif
#ifndef HAS_INET_NTOP
#define HAS_INET_NTOP 1
#endif
#ifndef HAS_MSGHDR_FLAGS
#define HAS_MSGHDR_FLAGS 1
#endif
#ifndef HAS_SOCKLEN_T
#define HAS_SOCKLEN_T 1
#endif
#ifndef HAS_GETADDRINFO
#define HAS_GETADDRINFO 1
#endif
#ifndef HAS_GETNAMEINFO
#define HAS_GETNAMEINFO 1
#endif
#endif

#ifdef HAS_FCNTL
#include <fcntl.h>
#endif

#ifdef HAS_POLL
#include <poll.h>
#endif

#if !defined(HAS_SOCKLEN_T) && !defined(__socklen_t_defined)
typedef int socklen_t;
#endif

#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0
#endif

static enet_uint32 timeBase = 0;

int
enet_initialize (void)
{
    return 0;
}

void
enet_deinitialize (void)
{
}

enet_uint32
enet_host_random_seed (void)
{
    return (enet_uint32) time (NULL);
}

void
enet_host_random_secret (enet_uint32 * secret, size_t count)
{
    size_t i, have = 0;
    int fd = open ("/dev/urandom", O_RDONLY);
    struct timeval timeVal;

    if (fd >= 0)
    {
        ssize_t n = read (fd, secret, count * sizeof (enet_uint32));
        if (n > 0)
          have = (size_t) n;
        close (fd);
    }
    if (have >= count * sizeof (enet_uint32))
      return;

    /* No /dev/urandom: the clock and the process, which an attacker may guess in part. */
    gettimeofday (& timeVal, NULL);
    for (i = 0; i < count; ++ i)
      secret [i] ^= (enet_uint32) timeVal.tv_usec * 2654435761U + (enet_uint32) timeVal.tv_sec + (enet_uint32) getpid () * (i + 1);
}

enet_uint32
enet_time_get (void)
{
    struct timeval timeVal;

    gettimeofday (& timeVal, NULL);

    return timeVal.tv_sec * 1000 + timeVal.tv_usec / 1000 - timeBase;
}

void
enet_time_set (enet_uint32 newTimeBase)
{
    struct timeval timeVal;

    gettimeofday (& timeVal, NULL);
    
    timeBase = timeVal.tv_sec * 1000 + timeVal.tv_usec / 1000 - newTimeBase;
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
enet_address_set_ipv4 (ENetAddress * address, const struct in_addr * in)
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
            errno = EAFNOSUPPORT;
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

int
enet_address_set_host_ip (ENetAddress * address, const char * name)
{
    struct in_addr in;
#ifdef HAS_INET_PTON
    struct in6_addr in6;

    if (inet_pton (AF_INET, name, & in) == 1)
    {
        enet_address_set_ipv4 (address, & in);

        return 0;
    }

    if (inet_pton (AF_INET6, name, & in6) == 1)
    {
        memcpy (address -> host, & in6, sizeof (address -> host));
        address -> scopeID = 0;

        return 0;
    }
#else
    if (inet_aton (name, & in))
    {
        enet_address_set_ipv4 (address, & in);

        return 0;
    }
#endif

    return -1;
}

int
enet_address_set_host (ENetAddress * address, const char * name)
{
#ifdef HAS_GETADDRINFO
    struct addrinfo hints, * resultList = NULL, * result = NULL, * ipv6Result = NULL;
    int error;

    /* A numeric address needs no lookup, and getaddrinfo with AI_ADDRCONFIG may refuse one:
       where IPv4 has only the loopback address, glibc refuses "127.0.0.1" (EAI_ADDRFAMILY). */
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
       loopback one has. Where lo is the only interface (a network namespace, a machine
       offline) even localhost can resolve to nothing (EAI_NONAME, EAI_NODATA); where IPv4
       has only loopback but IPv6 a global address (an IPv6-only host, many containers), a
       name is asked for its IPv6 addresses alone: localhost goes to DNS, which fails
       (EAI_AGAIN when no server answers), and a numeric form inet_pton does not read
       ("127.1") gets EAI_ADDRFAMILY. Ask again without the flag. Other failures are final;
       a DNS server that does not answer costs the second lookup's wait too. */
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
#else
    struct hostent * hostEntry = NULL;
#ifdef HAS_GETHOSTBYNAME_R
    struct hostent hostData;
    char buffer [2048];
    int errnum;

#if defined(linux) || defined(__linux) || defined(__linux__) || defined(__FreeBSD__) || defined(__FreeBSD_kernel__) || defined(__DragonFly__) || defined(__GNU__)
    gethostbyname_r (name, & hostData, buffer, sizeof (buffer), & hostEntry, & errnum);
#else
    hostEntry = gethostbyname_r (name, & hostData, buffer, sizeof (buffer), & errnum);
#endif
#else
    hostEntry = gethostbyname (name);
#endif

    if (hostEntry != NULL && hostEntry -> h_addrtype == AF_INET)
    {
        enet_address_set_ipv4 (address, (struct in_addr *) hostEntry -> h_addr_list [0]);

        return 0;
    }
#endif

    return enet_address_set_host_ip (address, name);
}

int
enet_address_get_host_ip (const ENetAddress * address, char * name, size_t nameLength)
{
#ifdef HAS_INET_NTOP
    if (enet_address_is_ipv4 (address) ?
          inet_ntop (AF_INET, & address -> host [12], name, nameLength) == NULL :
          inet_ntop (AF_INET6, address -> host, name, nameLength) == NULL)
#else
    struct in_addr in;
    char * addr;

    memcpy (& in, & address -> host [12], 4);
    addr = enet_address_is_ipv4 (address) ? inet_ntoa (in) : NULL;
    if (addr != NULL)
    {
        size_t addrLen = strlen(addr);
        if (addrLen >= nameLength)
          return -1;
        memcpy (name, addr, addrLen + 1);
    } 
    else
#endif
        return -1;
    return 0;
}

int
enet_address_get_host (const ENetAddress * address, char * name, size_t nameLength)
{
#ifdef HAS_GETNAMEINFO
    struct sockaddr_storage sockAddr;
    socklen_t sockAddrLength = enet_address_to_socket_address (address, enet_address_is_ipv4 (address) ? ENET_ADDRESS_FAMILY_IPV4 : ENET_ADDRESS_FAMILY_IPV6, & sockAddr);
    int err;

    err = getnameinfo ((struct sockaddr *) & sockAddr, sockAddrLength, name, nameLength, NULL, 0, NI_NAMEREQD);
    if (! err)
    {
        if (name != NULL && nameLength > 0 && ! memchr (name, '\0', nameLength))
          return -1;
        return 0;
    }
    if (err != EAI_NONAME)
      return -1;
#else
    struct in_addr in;
    struct hostent * hostEntry = NULL;
#ifdef HAS_GETHOSTBYADDR_R
    struct hostent hostData;
    char buffer [2048];
    int errnum;

    if (! enet_address_is_ipv4 (address))
      return enet_address_get_host_ip (address, name, nameLength);

    memcpy (& in, & address -> host [12], 4);

#if defined(linux) || defined(__linux) || defined(__linux__) || defined(__FreeBSD__) || defined(__FreeBSD_kernel__) || defined(__DragonFly__) || defined(__GNU__)
    gethostbyaddr_r ((char *) & in, sizeof (struct in_addr), AF_INET, & hostData, buffer, sizeof (buffer), & hostEntry, & errnum);
#else
    hostEntry = gethostbyaddr_r ((char *) & in, sizeof (struct in_addr), AF_INET, & hostData, buffer, sizeof (buffer), & errnum);
#endif
#else
    if (! enet_address_is_ipv4 (address))
      return enet_address_get_host_ip (address, name, nameLength);

    memcpy (& in, & address -> host [12], 4);

    hostEntry = gethostbyaddr ((char *) & in, sizeof (struct in_addr), AF_INET);
#endif

    if (hostEntry != NULL)
    {
       size_t hostLen = strlen (hostEntry -> h_name);
       if (hostLen >= nameLength)
         return -1;
       memcpy (name, hostEntry -> h_name, hostLen + 1);
       return 0;
    }
#endif

    return enet_address_get_host_ip (address, name, nameLength);
}

int
enet_socket_bind (ENetSocket socket, ENetAddressFamily family, const ENetAddress * address)
{
    struct sockaddr_storage sockAddr;
    socklen_t sockAddrLength;
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
                 sockAddrLength); 
}

int
enet_socket_get_address (ENetSocket socket, ENetAddress * address)
{
    struct sockaddr_storage sockAddr;
    socklen_t sockAddrLength = sizeof (sockAddr);

    if (getsockname (socket, (struct sockaddr *) & sockAddr, & sockAddrLength) == -1)
      return -1;

    return enet_address_from_socket_address (address, & sockAddr);
}

int 
enet_socket_listen (ENetSocket socket, int backlog)
{
    return listen (socket, backlog < 0 ? SOMAXCONN : backlog);
}

ENetSocket
enet_socket_create (ENetSocketType type, ENetAddressFamily family)
{
    ENetSocket result = socket (family == ENET_ADDRESS_FAMILY_IPV4 ? PF_INET : PF_INET6, type == ENET_SOCKET_TYPE_DATAGRAM ? SOCK_DGRAM : SOCK_STREAM, 0);
    int v6Only = family == ENET_ADDRESS_FAMILY_IPV6;

    /* Set explicitly, before bind: the default differs between systems (Linux reads
       net.ipv6.bindv6only, some BSDs set it). A DUAL socket that cannot clear it is useless. */
    if (result != -1 && family != ENET_ADDRESS_FAMILY_IPV4 &&
        setsockopt (result, IPPROTO_IPV6, IPV6_V6ONLY, (char *) & v6Only, sizeof (int)) == -1 &&
        family == ENET_ADDRESS_FAMILY_DUAL)
    {
        int error = errno;

        close (result);
        errno = error;

        return ENET_SOCKET_NULL;
    }

    return result;
}

int
enet_socket_set_option (ENetSocket socket, ENetSocketOption option, int value)
{
    int result = -1;
    switch (option)
    {
        case ENET_SOCKOPT_NONBLOCK:
#ifdef HAS_FCNTL
            result = fcntl (socket, F_SETFL, (value ? O_NONBLOCK : 0) | (fcntl (socket, F_GETFL) & ~O_NONBLOCK));
#else
            result = ioctl (socket, FIONBIO, & value);
#endif
            break;

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
        {
            struct timeval timeVal;
            timeVal.tv_sec = value / 1000;
            timeVal.tv_usec = (value % 1000) * 1000;
            result = setsockopt (socket, SOL_SOCKET, SO_RCVTIMEO, (char *) & timeVal, sizeof (struct timeval));
            break;
        }

        case ENET_SOCKOPT_SNDTIMEO:
        {
            struct timeval timeVal;
            timeVal.tv_sec = value / 1000;
            timeVal.tv_usec = (value % 1000) * 1000;
            result = setsockopt (socket, SOL_SOCKET, SO_SNDTIMEO, (char *) & timeVal, sizeof (struct timeval));
            break;
        }

        case ENET_SOCKOPT_NODELAY:
            result = setsockopt (socket, IPPROTO_TCP, TCP_NODELAY, (char *) & value, sizeof (int));
            break;

        case ENET_SOCKOPT_TTL:
            result = setsockopt (socket, IPPROTO_IP, IP_TTL, (char *) & value, sizeof (int));
            break;

        default:
            break;
    }
    return result == -1 ? -1 : 0;
}

int
enet_socket_get_option (ENetSocket socket, ENetSocketOption option, int * value)
{
    int result = -1;
    socklen_t len;
    switch (option)
    {
        case ENET_SOCKOPT_ERROR:
            len = sizeof (int);
            result = getsockopt (socket, SOL_SOCKET, SO_ERROR, value, & len);
            break;

        case ENET_SOCKOPT_RCVBUF:
            len = sizeof (int);
            result = getsockopt (socket, SOL_SOCKET, SO_RCVBUF, value, & len);
            break;

        case ENET_SOCKOPT_SNDBUF:
            len = sizeof (int);
            result = getsockopt (socket, SOL_SOCKET, SO_SNDBUF, value, & len);
            break;

        case ENET_SOCKOPT_TTL:
            len = sizeof (int);
            result = getsockopt (socket, IPPROTO_IP, IP_TTL, (char *) value, & len);
            break;

        default:
            break;
    }
    return result == -1 ? -1 : 0;
}

int
enet_socket_connect (ENetSocket socket, ENetAddressFamily family, const ENetAddress * address)
{
    struct sockaddr_storage sockAddr;
    socklen_t sockAddrLength = enet_address_to_socket_address (address, family, & sockAddr);
    int result;

    if (sockAddrLength == 0)
      return -1;

    result = connect (socket, (struct sockaddr *) & sockAddr, sockAddrLength);
    if (result == -1 && errno == EINPROGRESS)
      return 0;

    return result;
}

ENetSocket
enet_socket_accept (ENetSocket socket, ENetAddress * address)
{
    int result;
    struct sockaddr_storage sockAddr;
    socklen_t sockAddrLength = sizeof (sockAddr);

    result = accept (socket, 
                     address != NULL ? (struct sockaddr *) & sockAddr : NULL, 
                     address != NULL ? & sockAddrLength : NULL);
    
    if (result == -1)
      return ENET_SOCKET_NULL;

    if (address != NULL)
      enet_address_from_socket_address (address, & sockAddr);

    return result;
} 
    
int
enet_socket_shutdown (ENetSocket socket, ENetSocketShutdown how)
{
    return shutdown (socket, (int) how);
}

void
enet_socket_destroy (ENetSocket socket)
{
    if (socket != -1)
      close (socket);
}

int
enet_socket_send (ENetSocket socket,
                  ENetAddressFamily family,
                  const ENetAddress * address,
                  const ENetBuffer * buffers,
                  size_t bufferCount)
{
    struct msghdr msgHdr;
    struct sockaddr_storage sockAddr;
    int sentLength;

    memset (& msgHdr, 0, sizeof (struct msghdr));

    if (address != NULL)
    {
        msgHdr.msg_namelen = enet_address_to_socket_address (address, family, & sockAddr);
        if (msgHdr.msg_namelen == 0)
          return -1;

        msgHdr.msg_name = & sockAddr;
    }

    msgHdr.msg_iov = (struct iovec *) buffers;
    msgHdr.msg_iovlen = bufferCount;

    sentLength = sendmsg (socket, & msgHdr, MSG_NOSIGNAL);
    
    if (sentLength == -1)
    {
       if (errno == EWOULDBLOCK)
         return 0;

       return -1;
    }

    return sentLength;
}

int
enet_socket_receive (ENetSocket socket,
                     ENetAddress * address,
                     ENetBuffer * buffers,
                     size_t bufferCount)
{
    struct msghdr msgHdr;
    struct sockaddr_storage sockAddr;
    int recvLength;

    memset (& msgHdr, 0, sizeof (struct msghdr));

    if (address != NULL)
    {
        msgHdr.msg_name = & sockAddr;
        msgHdr.msg_namelen = sizeof (sockAddr);
    }

    msgHdr.msg_iov = (struct iovec *) buffers;
    msgHdr.msg_iovlen = bufferCount;

    recvLength = recvmsg (socket, & msgHdr, MSG_NOSIGNAL);

    if (recvLength == -1)
    {
        switch (errno)
        {
            case EWOULDBLOCK:
                return 0;
            case EINTR:
            case EMSGSIZE:
                return -2;
            default:
                return -1;
        }
    }

#ifdef HAS_MSGHDR_FLAGS
    if (msgHdr.msg_flags & MSG_TRUNC)
      return -2;
#endif

    if (address != NULL && enet_address_from_socket_address (address, & sockAddr) < 0)
      return -2;

    return recvLength;
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
#ifdef HAS_POLL
    struct pollfd pollSocket;
    int pollCount;
    
    pollSocket.fd = socket;
    pollSocket.events = 0;

    if (* condition & ENET_SOCKET_WAIT_SEND)
      pollSocket.events |= POLLOUT;

    if (* condition & ENET_SOCKET_WAIT_RECEIVE)
      pollSocket.events |= POLLIN;

    pollCount = poll (& pollSocket, 1, timeout);

    if (pollCount < 0)
    {
        if (errno == EINTR)
        {
            /* A signal arrived before anything happened on the socket: this is not a
               socket error, so report it as an interrupt if the caller asked for that
               and otherwise as a wait that ended with no condition set. */
            if (* condition & ENET_SOCKET_WAIT_INTERRUPT)
              * condition = ENET_SOCKET_WAIT_INTERRUPT;
            else
              * condition = ENET_SOCKET_WAIT_NONE;

            return 0;
        }

        return -1;
    }

    * condition = ENET_SOCKET_WAIT_NONE;

    if (pollCount == 0)
      return 0;

    if (pollSocket.revents & POLLOUT)
      * condition |= ENET_SOCKET_WAIT_SEND;
    
    if (pollSocket.revents & POLLIN)
      * condition |= ENET_SOCKET_WAIT_RECEIVE;

    return 0;
#else
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
    {
        if (errno == EINTR)
        {
            /* A signal arrived before anything happened on the socket: this is not a
               socket error, so report it as an interrupt if the caller asked for that
               and otherwise as a wait that ended with no condition set. */
            if (* condition & ENET_SOCKET_WAIT_INTERRUPT)
              * condition = ENET_SOCKET_WAIT_INTERRUPT;
            else
              * condition = ENET_SOCKET_WAIT_NONE;

            return 0;
        }
      
        return -1;
    }

    * condition = ENET_SOCKET_WAIT_NONE;

    if (selectCount == 0)
      return 0;

    if (FD_ISSET (socket, & writeSet))
      * condition |= ENET_SOCKET_WAIT_SEND;

    if (FD_ISSET (socket, & readSet))
      * condition |= ENET_SOCKET_WAIT_RECEIVE;

    return 0;
#endif
}

#endif

