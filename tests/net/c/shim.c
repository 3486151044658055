/* Test-only LD_PRELOAD shim for tests/network's IPv6 tests: makes this Linux machine behave like
   the systems the IPv6 code must also survive, without any hook in the module itself (nothing
   here is reachable from a Lua program that does not run with this library preloaded).
   ENET_SHIM is a list of:
     socket6     socket (AF_INET6, ...) fails with EAFNOSUPPORT (a kernel without IPv6)
     v6only      clearing IPV6_V6ONLY fails with EINVAL (no dual stack, as on OpenBSD)
     bind6       binding an AF_INET6 socket fails with EADDRNOTAVAIL
     strict      sendmsg/sendto on an AF_INET6 socket refuse an AF_INET address (macOS, FreeBSD)
     addrconfig  getaddrinfo with AI_ADDRCONFIG finds nothing (a machine whose only
                 interface is lo, where some C libraries leave out even localhost)
   At exit it prints what it did to stderr: "SHIM name=count ...". */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static unsigned long refusedSocket6, refusedV6Only, refusedBind6, refusedSend, mappedSends,
                     inet6Sends, refusedLookups;

static int
active (const char * mode)
{
    const char * modes = getenv ("ENET_SHIM");
    return modes != NULL && strstr (modes, mode) != NULL;
}

static void * 
real (const char * name)
{
    void * function = dlsym (RTLD_NEXT, name);
    if (function == NULL)
    {
        fprintf (stderr, "shim: no %s\n", name);
        abort ();
    }
    return function;
}

int
socket (int domain, int type, int protocol)
{
    static int (* next) (int, int, int);
    if (next == NULL) next = (int (*) (int, int, int)) real ("socket");
    if (domain == AF_INET6 && active ("socket6"))
    {
        ++ refusedSocket6;
        errno = EAFNOSUPPORT;
        return -1;
    }
    return next (domain, type, protocol);
}

int
setsockopt (int fd, int level, int name, const void * value, socklen_t length)
{
    static int (* next) (int, int, int, const void *, socklen_t);
    if (next == NULL) next = (int (*) (int, int, int, const void *, socklen_t)) real ("setsockopt");
    if (level == IPPROTO_IPV6 && name == IPV6_V6ONLY && length == sizeof (int) &&
        * (const int *) value == 0 && active ("v6only"))
    {
        ++ refusedV6Only;
        errno = EINVAL;
        return -1;
    }
    return next (fd, level, name, value, length);
}

int
bind (int fd, const struct sockaddr * address, socklen_t length)
{
    static int (* next) (int, const struct sockaddr *, socklen_t);
    if (next == NULL) next = (int (*) (int, const struct sockaddr *, socklen_t)) real ("bind");
    if (address != NULL && address -> sa_family == AF_INET6 && active ("bind6"))
    {
        ++ refusedBind6;
        errno = EADDRNOTAVAIL;
        return -1;
    }
    return next (fd, address, length);
}

/* 0 when a send to `to` is allowed, -1 (errno set) where macOS and FreeBSD would refuse it. */
static int
check_destination (int fd, const struct sockaddr * to)
{
    struct sockaddr_storage own;
    socklen_t length = sizeof (own);

    if (to == NULL || ! active ("strict") || getsockname (fd, (struct sockaddr *) & own, & length) < 0 ||
        own.ss_family != AF_INET6)
      return 0;
    if (to -> sa_family == AF_INET)
    {
        ++ refusedSend;
        errno = EAFNOSUPPORT;
        return -1;
    }
    ++ inet6Sends;
    if (IN6_IS_ADDR_V4MAPPED (& ((const struct sockaddr_in6 *) to) -> sin6_addr))
      ++ mappedSends;
    return 0;
}

ssize_t
sendmsg (int fd, const struct msghdr * message, int flags)
{
    static ssize_t (* next) (int, const struct msghdr *, int);
    if (next == NULL) next = (ssize_t (*) (int, const struct msghdr *, int)) real ("sendmsg");
    if (check_destination (fd, (const struct sockaddr *) message -> msg_name) < 0)
      return -1;
    return next (fd, message, flags);
}

ssize_t
sendto (int fd, const void * data, size_t size, int flags, const struct sockaddr * to, socklen_t length)
{
    static ssize_t (* next) (int, const void *, size_t, int, const struct sockaddr *, socklen_t);
    if (next == NULL) next = (ssize_t (*) (int, const void *, size_t, int, const struct sockaddr *, socklen_t)) real ("sendto");
    if (check_destination (fd, to) < 0)
      return -1;
    return next (fd, data, size, flags, to, length);
}

int
getaddrinfo (const char * node, const char * service, const struct addrinfo * hints, struct addrinfo ** result)
{
    static int (* next) (const char *, const char *, const struct addrinfo *, struct addrinfo **);
    if (next == NULL) next = (int (*) (const char *, const char *, const struct addrinfo *, struct addrinfo **)) real ("getaddrinfo");
    if (hints != NULL && (hints -> ai_flags & AI_ADDRCONFIG) && active ("addrconfig"))
    {
        ++ refusedLookups;
        return EAI_NONAME;
    }
    return next (node, service, hints, result);
}

__attribute__ ((destructor)) static void
report (void)
{
    fprintf (stderr, "SHIM socket6=%lu v6only=%lu bind6=%lu strict_refused=%lu inet6_sends=%lu "
             "mapped_sends=%lu addrconfig=%lu\n", refusedSocket6, refusedV6Only, refusedBind6,
             refusedSend, inet6Sends, mappedSends, refusedLookups);
}
