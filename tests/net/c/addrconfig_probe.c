/* Run by tests/network.rs (network/stock.rs, case ipv6_only_resolution) inside the network
   namespace of that case, before the Lua script: asks getaddrinfo for each name on the command line
   as ENet asked before vendor patch 0021 (AF_UNSPEC, SOCK_DGRAM, AI_ADDRCONFIG) and prints one line
   per name, "PROBE <name> <code> <message>" (code 0: found). The test reads them to know that the
   namespace reproduces what an IPv6-only host does to such a lookup. Ours, linked against nothing
   but the C library. */
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>

int
main (int argc, char ** argv)
{
    int i;

    for (i = 1; i < argc; ++ i)
    {
        struct addrinfo hints, * result = NULL;
        int error;

        memset (& hints, 0, sizeof (hints));
        hints.ai_family = AF_UNSPEC;
        hints.ai_socktype = SOCK_DGRAM;
        hints.ai_flags = AI_ADDRCONFIG;
        error = getaddrinfo (argv [i], NULL, & hints, & result);
        printf ("PROBE %s %d %s\n", argv [i], error, error != 0 ? gai_strerror (error) : "found");
        if (result != NULL)
          freeaddrinfo (result);
    }
    return 0;
}
