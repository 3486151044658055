/* ENet datagrams decoded for traces and invariants (see wire.h). */
#include <stdio.h>
#include <string.h>
#include "wire.h"
#include "client.h"

int wire_checksums;

static const size_t commandSizes [CMD_COUNT] = { 0, 8, 48, 44, 8, 4, 6, 8, 24, 8, 12, 16, 24 };

int
wire_parse (const uint8_t * data, size_t length, wire_datagram * d)
{
    uint16_t peerID;
    size_t at = 0;

    memset (d, 0, offsetof (wire_datagram, payload));
    d -> payloadLength = 0; d -> commandCount = 0; d -> truncated = 0;
    if (length < 2) return 0;
    peerID = rd16 (data);
    d -> peerID = peerID & HDR_PEER_MASK;
    d -> session = (peerID >> HDR_SESSION_SHIFT) & 3;
    d -> compressed = (peerID & HDR_FLAG_COMPRESSED) != 0;
    d -> hasSentTime = (peerID & HDR_FLAG_SENT_TIME) != 0;
    d -> headerSize = (d -> hasSentTime ? 4 : 2) + (wire_checksums ? 4 : 0);
    if (length < d -> headerSize) return 0;
    if (d -> hasSentTime) d -> sentTime = rd16 (data + 2);
    memcpy (d -> header, data, d -> headerSize);
    if (d -> compressed)
    {
       d -> payloadLength = stock_decompress (data + d -> headerSize, length - d -> headerSize, d -> payload, sizeof (d -> payload));
       if (d -> payloadLength == 0) return 0;
    }
    else
    {
       d -> payloadLength = length - d -> headerSize;
       memcpy (d -> payload, data + d -> headerSize, d -> payloadLength);
    }
    d -> ok = 1;
    while (at + 4 <= d -> payloadLength && d -> commandCount < 64)
    {
       const uint8_t * c = d -> payload + at;
       wire_command * w = & d -> commands [d -> commandCount];
       w -> number = c [0] & 0x0F;
       w -> flags = c [0] & 0xF0;
       w -> channel = c [1];
       w -> reliableSequence = rd16 (c + 2);
       if (w -> number == 0 || w -> number >= CMD_COUNT || at + commandSizes [w -> number] > d -> payloadLength) break;
       w -> at = c;
       w -> size = commandSizes [w -> number];
       w -> dataLength = 0;
       switch (w -> number)
       {
       case CMD_SEND_RELIABLE: w -> dataLength = rd16 (c + 4); break;
       case CMD_SEND_UNRELIABLE: case CMD_SEND_UNSEQUENCED: case CMD_SEND_FRAGMENT: case CMD_SEND_UNRELIABLE_FRAGMENT:
          w -> dataLength = rd16 (c + 6); break;
       }
       if (at + w -> size + w -> dataLength > d -> payloadLength) break;
       at += w -> size + w -> dataLength;
       ++ d -> commandCount;
    }
    d -> truncated = at < d -> payloadLength;
    return 1;
}

int
wire_checksum_ok (const wire_datagram * d, uint32_t cid)
{
    uint8_t buffer [4096 + 16];
    uint32_t desired;
    size_t field = d -> headerSize - 4;
    if (! wire_checksums) return 1;
    memcpy (buffer, d -> header, d -> headerSize);
    memcpy (& desired, buffer + field, 4);
    memcpy (buffer + field, & cid, 4);      /* as ENet writes it: the connect ID's bytes in memory order */
    memcpy (buffer + d -> headerSize, d -> payload, d -> payloadLength);
    return stock_crc32 (buffer, d -> headerSize + d -> payloadLength) == desired;
}

static const char * names [CMD_COUNT] = { "?", "ACK", "CONNECT", "VERIFY_CONNECT", "DISCONNECT", "PING", "RELIABLE",
    "UNRELIABLE", "FRAGMENT", "UNSEQUENCED", "BANDWIDTH_LIMIT", "THROTTLE_CONFIGURE", "UNRELIABLE_FRAGMENT" };

void
wire_format (sim_ep src, sim_ep dst, const uint8_t * data, size_t length, char * out, size_t cap)
{
    static wire_datagram d;
    size_t n = 0;
#define PUT(...) do { if (n < cap) n += (size_t) snprintf (out + n, cap - n, __VA_ARGS__); } while (0)
    if (! wire_parse (data, length, & d))
    {
       PUT ("%zu bytes, not ENet (%s)", length, length < 2 ? "short" : d.compressed ? "does not decompress" : "short header");
       return;
    }
    PUT ("%zuB [to %u s%u", length, d.peerID, d.session);
    if (d.hasSentTime) PUT (" t=%u", d.sentTime);
    if (d.compressed) PUT (" Z:%zu", d.payloadLength);
    PUT ("]");
    for (int i = 0; i < d.commandCount; ++ i)
    {
       const wire_command * c = & d.commands [i];
       if (i >= 6) { PUT (" +%d more", d.commandCount - i); break; }
       PUT (" %s", names [c -> number]);
       switch (c -> number)
       {
       case CMD_ACKNOWLEDGE: PUT ("(seq %u ch %u echo %u)", rd16 (c -> at + 4), c -> channel, rd16 (c -> at + 6)); break;
       case CMD_CONNECT: PUT ("(peer %u s%u/%u cid %08x)", rd16 (c -> at + 4), c -> at [6], c -> at [7], raw32 (c -> at + 40)); break;
       case CMD_VERIFY_CONNECT: PUT ("(slot %u s%u/%u cid %08x)", rd16 (c -> at + 4), c -> at [6], c -> at [7], raw32 (c -> at + 40)); break;
       case CMD_DISCONNECT: PUT ("(%u)", rd32 (c -> at + 4)); break;
       case CMD_PING: break;
       default:
          if (c -> dataLength) PUT ("(ch %u seq %u %zuB)", c -> channel, c -> reliableSequence, c -> dataLength);
          break;
       }
    }
    if (d.truncated) PUT (" +junk");
#undef PUT
    (void) src; (void) dst;
}
