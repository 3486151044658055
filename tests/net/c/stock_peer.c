/* A stock ENet peer for tests/network's IPv6 and dual-stack tests: built by the test against the
   system's unmodified libenet (Debian's libenet-dev, ENet 1.3.17, IPv4 only), never against our
   vendored copy. It speaks the protocol of tests/net/interop.lua:
     stock_peer server          binds 127.0.0.1, prints "READY 127.0.0.1:<port>", sends a hello
                                on channel 2 to the client, echoes every packet on its channel,
                                and ends when the client disconnects with data 42;
     stock_peer client ADDRESS  connects with 3 channels and data 5, sends 11 packets of 0 to
                                65536 bytes (fragmented and not) on channels 0-2, checks every
                                echo byte for byte and the hello, then disconnects with data 42.
   Prints COUNT lines and "1 passed, 0 failed" (or a FAIL line and exits 1). */
#include <enet/enet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const size_t sizes [] = { 0, 1, 100, 1363, 1364, 1365, 2728, 2729, 5000, 40000, 65536 };
#define SIZE_COUNT (sizeof (sizes) / sizeof (sizes [0]))

/* tests/net/lib/netlib.lua's N.bytes (salt, n) */
static void
fill (unsigned char * data, size_t n, int salt)
{
    size_t k;
    for (k = 0; k < n; ++ k)
      data [k] = (unsigned char) (((k % 256) * 7 + salt) % 256);
}

static int
fail (const char * what)
{
    printf ("FAIL - %s\n0 passed, 1 failed\n", what);
    fflush (stdout);
    return 1;
}

static const char *
version (void)
{
    static char text [64];
    ENetVersion v = enet_linked_version ();
    snprintf (text, sizeof (text), "stock ENet %u.%u.%u (system libenet)",
              ENET_VERSION_GET_MAJOR (v), ENET_VERSION_GET_MINOR (v), ENET_VERSION_GET_PATCH (v));
    return text;
}

static int
server (void)
{
    ENetAddress address;
    ENetHost * host;
    ENetEvent event;
    enet_uint32 start;
    int echoed = 0;

    enet_address_set_host (& address, "127.0.0.1");
    address.port = 0;
    host = enet_host_create (& address, 4, 3, 0, 0);
    if (host == NULL || enet_socket_get_address (host -> socket, & address) < 0)
      return fail ("server: enet_host_create");
    printf ("READY 127.0.0.1:%u\n", address.port);
    fflush (stdout);

    start = enet_time_get ();
    while (enet_time_get () - start < 30000)
    {
        if (enet_host_service (host, & event, 5) < 0)
          return fail ("server: enet_host_service");
        switch (event.type)
        {
        case ENET_EVENT_TYPE_CONNECT:
        {
            char hello [128];
            snprintf (hello, sizeof (hello), "hello from %s", version ());
            enet_peer_send (event.peer, 2, enet_packet_create (hello, strlen (hello), ENET_PACKET_FLAG_RELIABLE));
            break;
        }
        case ENET_EVENT_TYPE_RECEIVE:
            enet_peer_send (event.peer, event.channelID,
                            enet_packet_create (event.packet -> data, event.packet -> dataLength, ENET_PACKET_FLAG_RELIABLE));
            enet_packet_destroy (event.packet);
            ++ echoed;
            break;
        case ENET_EVENT_TYPE_DISCONNECT:
            if (event.data != 42)
              return fail ("server: disconnect data is not 42");
            printf ("COUNT server %s echoed %d packets\n1 passed, 0 failed\n", version (), echoed);
            fflush (stdout);
            enet_host_destroy (host);
            return 0;
        default:
            break;
        }
    }
    return fail ("server: no disconnect within 30 s");
}

static int
client (const char * text)
{
    ENetAddress address;
    ENetHost * host;
    ENetPeer * peer;
    ENetEvent event;
    enet_uint32 start;
    char name [128];
    const char * colon = strrchr (text, ':');
    unsigned char * data;
    size_t i, echoes = 0;
    int connected = 0, hello = 0;

    if (colon == NULL || (size_t) (colon - text) >= sizeof (name))
      return fail ("client: address must be host:port");
    memcpy (name, text, colon - text);
    name [colon - text] = '\0';
    if (enet_address_set_host (& address, name) < 0)
      return fail ("client: cannot resolve the server");
    address.port = (enet_uint16) atoi (colon + 1);

    host = enet_host_create (NULL, 1, 3, 0, 0);
    if (host == NULL)
      return fail ("client: enet_host_create");
    peer = enet_host_connect (host, & address, 3, 5);
    data = malloc (65536);
    if (peer == NULL || data == NULL)
      return fail ("client: enet_host_connect");

    start = enet_time_get ();
    while (enet_time_get () - start < 30000 && (echoes < SIZE_COUNT || ! hello))
    {
        if (enet_host_service (host, & event, 5) < 0)
          return fail ("client: enet_host_service");
        if (event.type == ENET_EVENT_TYPE_CONNECT && ! connected)
        {
            connected = 1;
            for (i = 0; i < SIZE_COUNT; ++ i)
            {
                int salt = (int) i + 1, channel = salt % 3 == 2 ? 0 : salt % 3;
                fill (data, sizes [i], salt);
                if (enet_peer_send (peer, (enet_uint8) channel, enet_packet_create (data, sizes [i], ENET_PACKET_FLAG_RELIABLE)) < 0)
                  return fail ("client: enet_peer_send");
            }
        }
        else
        if (event.type == ENET_EVENT_TYPE_RECEIVE)
        {
            size_t n = event.packet -> dataLength;
            if (event.channelID == 2 && n >= 11 && ! memcmp (event.packet -> data, "hello from ", 11))
              hello = 1;
            else
            {
                for (i = 0; i < SIZE_COUNT && sizes [i] != n; ++ i);
                if (i == SIZE_COUNT)
                  return fail ("client: an echo of a size never sent");
                fill (data, n, (int) i + 1);
                if (memcmp (data, event.packet -> data, n))
                  return fail ("client: an echo differs from what was sent");
                ++ echoes;
            }
            enet_packet_destroy (event.packet);
        }
        else
        if (event.type == ENET_EVENT_TYPE_DISCONNECT)
          return fail ("client: disconnected by the server");
    }
    if (echoes < SIZE_COUNT || ! hello)
      return fail ("client: echoes or hello missing after 30 s");

    enet_peer_disconnect (peer, 42);
    start = enet_time_get ();
    while (enet_time_get () - start < 5000)
    {
        if (enet_host_service (host, & event, 5) > 0 && event.type == ENET_EVENT_TYPE_DISCONNECT)
        {
            printf ("COUNT client %s got %u echoes (0..65536 bytes) and the hello\n1 passed, 0 failed\n",
                    version (), (unsigned) echoes);
            fflush (stdout);
            free (data);
            enet_host_destroy (host);
            return 0;
        }
    }
    return fail ("client: the disconnect was not acknowledged");
}

int
main (int argc, char ** argv)
{
    if (enet_initialize () != 0)
      return fail ("enet_initialize");
    if (argc >= 2 && ! strcmp (argv [1], "server"))
      return server ();
    if (argc >= 3 && ! strcmp (argv [1], "client"))
      return client (argv [2]);
    return fail ("usage: stock_peer server | stock_peer client HOST:PORT");
}
