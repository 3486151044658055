/* ENet's range coder as a filter, for the compressed-reflection tests of tests/network/flood.rs
   (answers are bounded on the wire, before decompression: docs/contract.md §10): compiled
   together with the vendored vendor/enet/compress.c (our own tree, nothing fetched), it reads a
   datagram body (at most 4096 bytes) on stdin and writes its range-coded form on stdout, as a
   host with host:compress_with_range_coder() would put it after the header; with -d, the other
   way round (what a compressing server sent). Exits 1 when the coder gives nothing (an
   incompressible body, which a host would send uncompressed, or one that does not decode). */
#include <enet/enet.h>
#include <stdio.h>
#include <stdlib.h>

/* compress.c needs ENet's allocator and, for enet_host_compress_with_range_coder (unused
   here), enet_host_compress: the rest of the library is not linked. */
void *
enet_malloc (size_t size)
{
    return malloc (size);
}

void
enet_free (void * memory)
{
    free (memory);
}

void
enet_host_compress (ENetHost * host, const ENetCompressor * compressor)
{
    (void) host;
    (void) compressor;
}

int
main (int argc, char ** argv)
{
    static enet_uint8 in [4096], out [4096];
    ENetBuffer buffer;
    void * coder = enet_range_coder_create ();
    size_t length = fread (in, 1, sizeof (in), stdin), coded;

    if (coder == NULL || length == 0)
      return 1;
    buffer.data = in;
    buffer.dataLength = length;
    if (argc > 1 && argv [1][0] == '-' && argv [1][1] == 'd')
      coded = enet_range_coder_decompress (coder, in, length, out, sizeof (out));
    else
      coded = enet_range_coder_compress (coder, & buffer, 1, length, out, sizeof (out));
    enet_range_coder_destroy (coder);
    if (coded == 0)
      return 1;
    fwrite (out, 1, coded, stdout);
    return 0;
}
