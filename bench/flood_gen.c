/* A forged-CONNECT generator for bench/flood (docs/contract.md §10): well-formed ENet 1.3 CONNECT
   datagrams (each with a fresh connect ID) from SOURCES loopback addresses 127.1.x.y (Linux
   routes all of 127.0.0.0/8 locally), at RATE per second for SECONDS, to HOST:PORT. What comes
   back is read and counted, never answered.
     flood_gen HOST PORT RATE SECONDS [SOURCES]
   Prints "SENT <n> SECONDS <s> REPLIES <n> REPLY_BYTES <n>". */
#define _DEFAULT_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double
now (void)
{
    struct timespec t;
    clock_gettime (CLOCK_MONOTONIC, & t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static uint64_t state = 0x9E3779B97F4A7C15ULL;

static uint32_t
next (void)
{
    state ^= state >> 12; state ^= state << 25; state ^= state >> 27;
    return (uint32_t) ((state * 0x2545F4914F6CDD1DULL) >> 32);
}

static void
put16 (unsigned char * p, uint16_t x) { p [0] = x >> 8; p [1] = x; }

static void
put32 (unsigned char * p, uint32_t x) { p [0] = x >> 24; p [1] = x >> 16; p [2] = x >> 8; p [3] = x; }

int
main (int argc, char ** argv)
{
    struct sockaddr_in target, from;
    double rate, seconds, start, last_drain;
    int sources = argc > 5 ? atoi (argv [5]) : 300, i;
    int * fds;
    unsigned long long sent = 0, replies = 0, replyBytes = 0;
    unsigned char d [52], buf [4096];

    if (argc < 5)
    {
        fprintf (stderr, "usage: flood_gen HOST PORT RATE SECONDS [SOURCES]\n");
        return 2;
    }
    memset (& target, 0, sizeof (target));
    target.sin_family = AF_INET;
    target.sin_port = htons ((uint16_t) atoi (argv [2]));
    inet_pton (AF_INET, argv [1], & target.sin_addr);
    rate = atof (argv [3]);
    seconds = atof (argv [4]);
    fds = calloc (sources, sizeof (int));
    for (i = 0; i < sources; ++ i)
    {
        memset (& from, 0, sizeof (from));
        from.sin_family = AF_INET;
        from.sin_addr.s_addr = htonl ((127u << 24) | (1u << 16) | ((unsigned) (i / 250) << 8) | (unsigned) (i % 250 + 1));
        fds [i] = socket (AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
        if (fds [i] < 0 || bind (fds [i], (struct sockaddr *) & from, sizeof (from)) < 0)
        {
            perror ("socket/bind");
            return 1;
        }
    }

    start = last_drain = now ();
    for (;;)
    {
        double t = now ();
        unsigned long long due = (unsigned long long) ((t - start) * rate);
        if (t - start >= seconds)
          break;
        while (sent < due)
        {
            /* header: peer id 0xFFF with the sent-time flag; CONNECT | ACKNOWLEDGE on 0xFF, seq 1 */
            put16 (d, 0x8FFF);
            put16 (d + 2, (uint16_t) next ());
            d [4] = 0x82; d [5] = 0xFF; put16 (d + 6, 1);
            put16 (d + 8, (uint16_t) (next () & 0xFFF));
            d [10] = 0xFF; d [11] = 0xFF;
            put32 (d + 12, 1392); put32 (d + 16, 32768); put32 (d + 20, 2);
            put32 (d + 24, 0); put32 (d + 28, 0); put32 (d + 32, 5000); put32 (d + 36, 2); put32 (d + 40, 2);
            put32 (d + 44, next ()); put32 (d + 48, 0);
            sendto (fds [sent % sources], d, sizeof (d), 0, (struct sockaddr *) & target, sizeof (target));
            ++ sent;
        }
        if (t - last_drain >= 0.1)
        {
            last_drain = t;
            for (i = 0; i < sources; ++ i)
            {
                ssize_t n;
                while ((n = recv (fds [i], buf, sizeof (buf), 0)) > 0)
                {
                    ++ replies;
                    replyBytes += n;
                }
            }
        }
        usleep (500);
    }
    printf ("SENT %llu SECONDS %.2f REPLIES %llu REPLY_BYTES %llu\n", sent, now () - start, replies, replyBytes);
    return 0;
}
