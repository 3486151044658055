/* A stock ENet client for tests/network/flood.rs (docs/contract.md §10): built against the
   system's unmodified libenet (Debian's libenet-dev, ENet 1.3.17), never our vendored copy.
     stock_join ADDRESS [LIMIT_MS]   joins ADDRESS (127.0.0.1:port), prints "JOIN <ms>" (from
                                     enet_host_connect to the connect event, at most LIMIT_MS,
                                     1000 by default), sends one packet, prints "ECHO <ms>" when
                                     tests/net/flood.lua's server echoes it, and disconnects.
   Prints a COUNT line and "1 passed, 0 failed" (or a FAIL line and exits 1). */
#include <enet/enet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
fail (const char * what)
{
    printf ("FAIL - %s\n0 passed, 1 failed\n", what);
    fflush (stdout);
    return 1;
}

int
main (int argc, char ** argv)
{
    ENetAddress address;
    ENetHost * host;
    ENetPeer * peer;
    ENetEvent event;
    int event_joined = 0;
    enet_uint32 start, joined = 0, echoed = 0, done = 0, limit = argc > 2 ? (enet_uint32) atoi (argv [2]) : 1000;
    char text [64];
    const char * colon;

    if (argc < 2 || (colon = strrchr (argv [1], ':')) == NULL)
      return fail ("usage: stock_join HOST:PORT [LIMIT_MS]");
    snprintf (text, sizeof (text), "%.*s", (int) (colon - argv [1]), argv [1]);
    if (enet_initialize () != 0 || enet_address_set_host (& address, text) != 0)
      return fail ("enet_initialize or address");
    address.port = (enet_uint16) atoi (colon + 1);

    host = enet_host_create (NULL, 1, 2, 0, 0);
    if (host == NULL)
      return fail ("enet_host_create");
    start = enet_time_get ();
    peer = enet_host_connect (host, & address, 2, 0);
    if (peer == NULL)
      return fail ("enet_host_connect");

    while (! done)
    {
        enet_uint32 now = enet_time_get () - start;

        if (event_joined == 0 && now > limit)
        {
            snprintf (text, sizeof (text), "did not join within %u ms", limit);
            return fail (text);
        }
        if (now > limit + 5000)
          return fail ("no echo");
        if (enet_host_service (host, & event, 1) < 0)
          return fail ("enet_host_service");
        switch (event.type)
        {
        case ENET_EVENT_TYPE_CONNECT:
            event_joined = 1;
            joined = enet_time_get () - start;
            printf ("JOIN %u\n", joined);
            fflush (stdout);
            enet_peer_send (peer, 1, enet_packet_create ("hello from libenet", 18, ENET_PACKET_FLAG_RELIABLE));
            break;
        case ENET_EVENT_TYPE_RECEIVE:
            echoed = enet_time_get () - start;
            done = 1;
            printf ("ECHO %u\n", echoed - joined);
            enet_packet_destroy (event.packet);
            break;
        case ENET_EVENT_TYPE_DISCONNECT:
            return fail ("disconnected");
        default:
            break;
        }
    }
    enet_peer_disconnect_now (peer, 0);
    enet_host_destroy (host);
    printf ("COUNT stock libenet client: joined in %u ms, echo in %u ms\n1 passed, 0 failed\n", joined, echoed - joined);
    return 0;
}
