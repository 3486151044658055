/** 
 @file  protocol.c
 @brief ENet protocol functions
*/
#include <stdio.h>
#include <string.h>
#define ENET_BUILDING_LIB 1
#include "enet/utility.h"
#include "enet/time.h"
#include "enet/enet.h"

static const size_t commandSizes [ENET_PROTOCOL_COMMAND_COUNT] =
{
    0,
    sizeof (ENetProtocolAcknowledge),
    sizeof (ENetProtocolConnect),
    sizeof (ENetProtocolVerifyConnect),
    sizeof (ENetProtocolDisconnect),
    sizeof (ENetProtocolPing),
    sizeof (ENetProtocolSendReliable),
    sizeof (ENetProtocolSendUnreliable),
    sizeof (ENetProtocolSendFragment),
    sizeof (ENetProtocolSendUnsequenced),
    sizeof (ENetProtocolBandwidthLimit),
    sizeof (ENetProtocolThrottleConfigure),
    sizeof (ENetProtocolSendFragment)
};

/* The IPv4 broadcast address 255.255.255.255 as ENetAddress holds it (::ffff:255.255.255.255). */
static const enet_uint8 broadcastHost [16] =
{
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF
};

size_t
enet_protocol_command_size (enet_uint8 commandNumber)
{
    return commandSizes [commandNumber & ENET_PROTOCOL_COMMAND_MASK];
}

static void
enet_protocol_change_state (ENetHost * host, ENetPeer * peer, ENetPeerState state)
{
    if (state == ENET_PEER_STATE_CONNECTED || state == ENET_PEER_STATE_DISCONNECT_LATER)
      enet_peer_on_connect (peer);
    else
      enet_peer_on_disconnect (peer);

    peer -> state = state;
}

static void
enet_protocol_dispatch_state (ENetHost * host, ENetPeer * peer, ENetPeerState state)
{
    enet_protocol_change_state (host, peer, state);

    if (! (peer -> flags & ENET_PEER_FLAG_NEEDS_DISPATCH))
    {
       enet_list_insert (enet_list_end (& host -> dispatchQueue), & peer -> dispatchList);

       peer -> flags |= ENET_PEER_FLAG_NEEDS_DISPATCH;
    }
}

static int
enet_protocol_dispatch_incoming_commands (ENetHost * host, ENetEvent * event)
{
    while (! enet_list_empty (& host -> dispatchQueue))
    {
       ENetPeer * peer = (ENetPeer *) enet_list_remove (enet_list_begin (& host -> dispatchQueue));

       peer -> flags &= ~ ENET_PEER_FLAG_NEEDS_DISPATCH;

       switch (peer -> state)
       {
       case ENET_PEER_STATE_CONNECTION_PENDING:
       case ENET_PEER_STATE_CONNECTION_SUCCEEDED:
           enet_protocol_change_state (host, peer, ENET_PEER_STATE_CONNECTED);

           event -> type = ENET_EVENT_TYPE_CONNECT;
           event -> peer = peer;
           event -> data = peer -> eventData;

           return 1;
           
       case ENET_PEER_STATE_ZOMBIE:
           /* Local patch 0041: a peer that connected and left before its connect event was
              dispatched still has it first, then its messages, then its disconnect. */
           if (peer -> flags & ENET_PEER_FLAG_CONNECT_PENDING)
           {
              peer -> flags &= ~ ENET_PEER_FLAG_CONNECT_PENDING;

              event -> type = ENET_EVENT_TYPE_CONNECT;
              event -> peer = peer;
              event -> data = peer -> connectData;

              peer -> flags |= ENET_PEER_FLAG_NEEDS_DISPATCH;

              enet_list_insert (enet_list_end (& host -> dispatchQueue), & peer -> dispatchList);

              return 1;
           }

           /* Local patch 0039: the messages that arrived whole before the peer left (kept by
              enet_protocol_handle_disconnect) come before its disconnect. */
           if (! enet_list_empty (& peer -> dispatchedCommands))
           {
              event -> packet = enet_peer_receive (peer, & event -> channelID);
              event -> type = ENET_EVENT_TYPE_RECEIVE;
              event -> peer = peer;

              peer -> flags |= ENET_PEER_FLAG_NEEDS_DISPATCH;

              enet_list_insert (enet_list_end (& host -> dispatchQueue), & peer -> dispatchList);

              return 1;
           }

           host -> recalculateBandwidthLimits = 1;

           event -> type = ENET_EVENT_TYPE_DISCONNECT;
           event -> peer = peer;
           event -> data = peer -> eventData;

           enet_peer_reset (peer);

           return 1;

       case ENET_PEER_STATE_CONNECTED:
           /* Local patch 0041: the connect event of a peer that a service without an event
              connected (enet_protocol_notify_connect), before its messages. */
           if (peer -> flags & ENET_PEER_FLAG_CONNECT_PENDING)
           {
              peer -> flags &= ~ ENET_PEER_FLAG_CONNECT_PENDING;

              event -> type = ENET_EVENT_TYPE_CONNECT;
              event -> peer = peer;
              event -> data = peer -> connectData;

              if (! enet_list_empty (& peer -> dispatchedCommands))
              {
                 peer -> flags |= ENET_PEER_FLAG_NEEDS_DISPATCH;

                 enet_list_insert (enet_list_end (& host -> dispatchQueue), & peer -> dispatchList);
              }

              return 1;
           }

           if (enet_list_empty (& peer -> dispatchedCommands))
             continue;

           event -> packet = enet_peer_receive (peer, & event -> channelID);
           if (event -> packet == NULL)
             continue;
             
           event -> type = ENET_EVENT_TYPE_RECEIVE;
           event -> peer = peer;

           if (! enet_list_empty (& peer -> dispatchedCommands))
           {
              peer -> flags |= ENET_PEER_FLAG_NEEDS_DISPATCH;
         
              enet_list_insert (enet_list_end (& host -> dispatchQueue), & peer -> dispatchList);
           }

           return 1;

       default:
           break;
       }
    }

    return 0;
}

static void
enet_protocol_notify_connect (ENetHost * host, ENetPeer * peer, ENetEvent * event)
{
    host -> recalculateBandwidthLimits = 1;

    if (event != NULL)
    {
        enet_protocol_change_state (host, peer, ENET_PEER_STATE_CONNECTED);

        event -> type = ENET_EVENT_TYPE_CONNECT;
        event -> peer = peer;
        event -> data = peer -> eventData;
    }
    else
    {
        /* Local patch 0041: connected at once, as with an event, and its connect event is
           dispatched later. Stock ENet left the peer in CONNECTION_SUCCEEDED or
           CONNECTION_PENDING until then, where it refuses the remote's pings and messages
           unacknowledged: a host serviced without events (a background thread) whose program
           had not taken the connect event yet was timed out by its remote. */
        peer -> flags |= ENET_PEER_FLAG_CONNECT_PENDING;
        peer -> connectData = peer -> eventData;

        enet_protocol_dispatch_state (host, peer, ENET_PEER_STATE_CONNECTED);
    }
}

static void
enet_protocol_notify_disconnect (ENetHost * host, ENetPeer * peer, ENetEvent * event, enet_uint32 reason)
{
    if (peer -> state == ENET_PEER_STATE_CONNECTING)
      peer -> disconnectReason = ENET_DISCONNECT_REASON_REFUSED;
    else
    if (peer -> state == ENET_PEER_STATE_DISCONNECTING)
      peer -> disconnectReason = ENET_DISCONNECT_REASON_LOCAL;
    else
      peer -> disconnectReason = reason;

    if (peer -> state >= ENET_PEER_STATE_CONNECTION_PENDING)
       host -> recalculateBandwidthLimits = 1;

    if (peer -> state != ENET_PEER_STATE_CONNECTING && peer -> state < ENET_PEER_STATE_CONNECTION_SUCCEEDED)
        enet_peer_reset (peer);
    else
    /* Local patch 0041: a peer whose connect event is not dispatched yet goes through the
       dispatch queue, which returns that connect event before the disconnect. */
    if (event != NULL && ! (peer -> flags & ENET_PEER_FLAG_CONNECT_PENDING))
    {
        event -> type = ENET_EVENT_TYPE_DISCONNECT;
        event -> peer = peer;
        event -> data = 0;

        enet_peer_reset (peer);
    }
    else 
    {
        peer -> eventData = 0;

        enet_protocol_dispatch_state (host, peer, ENET_PEER_STATE_ZOMBIE);
    }
}

static void
enet_protocol_remove_sent_unreliable_commands (ENetPeer * peer, ENetList * sentUnreliableCommands)
{
    ENetOutgoingCommand * outgoingCommand;

    if (enet_list_empty (sentUnreliableCommands))
      return;

    do
    {
        outgoingCommand = (ENetOutgoingCommand *) enet_list_front (sentUnreliableCommands);
        
        enet_list_remove (& outgoingCommand -> outgoingCommandList);

        if (outgoingCommand -> packet != NULL)
        {
           -- outgoingCommand -> packet -> referenceCount;

           if (outgoingCommand -> packet -> referenceCount == 0)
           {
              outgoingCommand -> packet -> flags |= ENET_PACKET_FLAG_SENT;
 
              enet_packet_destroy (outgoingCommand -> packet);
           }
        }

        enet_free (outgoingCommand);
    } while (! enet_list_empty (sentUnreliableCommands));

    if (peer -> state == ENET_PEER_STATE_DISCONNECT_LATER &&
        ! enet_peer_has_outgoing_commands (peer))
      enet_peer_disconnect (peer, peer -> eventData);
}

static ENetProtocolCommand
enet_protocol_remove_sent_reliable_command (ENetPeer * peer, enet_uint16 reliableSequenceNumber, enet_uint8 channelID)
{
    ENetOutgoingCommand * outgoingCommand;
    ENetProtocolCommand commandNumber;
    int wasSent;

    outgoingCommand = enet_peer_find_sent_reliable_command (peer, reliableSequenceNumber, channelID);
    if (outgoingCommand == NULL)
      return ENET_PROTOCOL_COMMAND_NONE;

    wasSent = outgoingCommand -> inTransit;

    enet_peer_untrack_sent_reliable_command (peer, outgoingCommand);

    if (channelID < peer -> channelCount)
    {
       ENetChannel * channel = & peer -> channels [channelID];
       enet_uint16 reliableWindow = reliableSequenceNumber / ENET_PEER_RELIABLE_WINDOW_SIZE;
       if (channel -> reliableWindows [reliableWindow] > 0)
       {
          -- channel -> reliableWindows [reliableWindow];
          if (! channel -> reliableWindows [reliableWindow])
            channel -> usedReliableWindows &= ~ (1u << reliableWindow);
       }
    }

    commandNumber = (ENetProtocolCommand) (outgoingCommand -> command.header.command & ENET_PROTOCOL_COMMAND_MASK);
    
    enet_list_remove (& outgoingCommand -> outgoingCommandList);

    if (outgoingCommand -> packet != NULL)
    {
       if (wasSent)
         peer -> reliableDataInTransit -= outgoingCommand -> fragmentLength;

       -- outgoingCommand -> packet -> referenceCount;

       if (outgoingCommand -> packet -> referenceCount == 0)
       {
          outgoingCommand -> packet -> flags |= ENET_PACKET_FLAG_SENT;

          enet_packet_destroy (outgoingCommand -> packet);
       }
    }

    enet_free (outgoingCommand);

    if (enet_list_empty (& peer -> sentReliableCommands))
      return commandNumber;
    
    outgoingCommand = (ENetOutgoingCommand *) enet_list_front (& peer -> sentReliableCommands);
    
    peer -> nextTimeout = outgoingCommand -> sentTime + outgoingCommand -> roundTripTimeout;

    return commandNumber;
} 

/* Local patches: the handshake under a forged-CONNECT flood (see PATCHES.md and
   docs/handshake.md, which has the state machine). A CONNECT starts an unverified handshake: its
   VERIFY_CONNECT is sent at once, outside the peer's queues, with a random sent time, and never
   retransmitted on the host's timer; the handshake completes only when the client's
   acknowledgement echoes that sent time. Whatever ends a handshake whose client may have been
   told it joined sends that client a DISCONNECT, unless the client has been silent for the whole
   life of the handshake (0023). A handshake lives in the slot it offers (an unverified half-open
   peer) or, while those would hold too many slots, in a record of the host's table that only
   reserves the slot (0024). While someone is guessing echoes, it needs a second one (0025). An
   unverified address earns its answers by the bytes it sends (0026). With host -> connectDefence
   off, new connections get stock ENet's handshake (0027). */
static int
enet_protocol_peer_unverified (const ENetPeer * peer)
{
    return peer -> state == ENET_PEER_STATE_ACKNOWLEDGING_CONNECT && (peer -> flags & ENET_PEER_FLAG_UNVERIFIED);
}

typedef unsigned long long enet_protocol_uint64;

static enet_uint16
enet_protocol_connect_sent_time (ENetHost * host)
{
    return (enet_uint16) enet_host_hash (host, enet_host_random (host), host -> serviceTime);
}

/* Someone is guessing echoes when ENET_HOST_CONNECT_GUESS_LIMIT wrong ones, from any source,
   came in this window or the one before. A stock client never echoes wrongly, so the count is
   kept for the whole host, not per address: nothing an attacker sends can stop a client that
   echoes what it was sent. While it lasts, a handshake needs a second echo (2^32 to guess). */
static int
enet_protocol_connect_guessing (ENetHost * host)
{
    enet_uint32 elapsed = ENET_TIME_DIFFERENCE (host -> serviceTime, host -> connectGuessWindow);

    if (host -> connectGuessWindow == 0)
      return 0;
    if (elapsed >= ENET_HOST_CONNECT_GUESS_WINDOW)
    {
       host -> connectGuessesBefore = elapsed < 2 * ENET_HOST_CONNECT_GUESS_WINDOW ? host -> connectGuesses : 0;
       host -> connectGuesses = 0;
       host -> connectGuessWindow = ENET_MAX (host -> serviceTime, 1);
    }
    return host -> connectGuesses >= ENET_HOST_CONNECT_GUESS_LIMIT ||
           host -> connectGuessesBefore >= ENET_HOST_CONNECT_GUESS_LIMIT;
}

static void
enet_protocol_connect_guessed (ENetHost * host)
{
    if (host -> connectGuessWindow == 0)
      host -> connectGuessWindow = ENET_MAX (host -> serviceTime, 1);
    enet_protocol_connect_guessing (host);
    ++ host -> connectGuesses;
}

/* No reflection by bytes: an unverified address earns three bytes of answer per byte it sent,
   counted on the wire (a compressed datagram earns by its compressed length), so that no
   datagram draws more than three times its size towards an address that may be forged. */
static void
enet_protocol_handshake_earn (ENetHost * host, ENetHandshake * handshake)
{
    size_t credit = (size_t) handshake -> credit + 3 * host -> receivedWireLength;

    handshake -> credit = (enet_uint16) ENET_MIN (credit, 0xFFFF);
}

static int
enet_protocol_handshake_spend (ENetHandshake * handshake, size_t bytes)
{
    if (handshake -> credit < bytes)
      return 0;
    handshake -> credit -= (enet_uint16) bytes;
    return 1;
}

/* Sends one command to a handshake's client in a datagram of its own, as the peer it would
   become would send it (its session, checksum), uncompressed; with a sent time or without. */
static void
enet_protocol_handshake_send (ENetHost * host, const ENetAddress * address, const ENetHandshake * handshake,
                              const void * command, size_t commandLength, int withSentTime, enet_uint16 sentTime)
{
    enet_uint8 headerData [sizeof (ENetProtocolHeader) + sizeof (enet_uint32)];
    ENetProtocolHeader * header = (ENetProtocolHeader *) headerData;
    ENetBuffer buffers [2];
    enet_uint16 headerFlags = withSentTime ? ENET_PROTOCOL_HEADER_FLAG_SENT_TIME : 0;
    int sentLength;

    if (handshake -> clientPeerID < ENET_PROTOCOL_MAXIMUM_PEER_ID)
      headerFlags |= handshake -> verify.incomingSessionID << ENET_PROTOCOL_HEADER_SESSION_SHIFT;
    header -> peerID = ENET_HOST_TO_NET_16 (handshake -> clientPeerID | headerFlags);
    header -> sentTime = ENET_HOST_TO_NET_16 (sentTime);

    buffers [0].data = headerData;
    buffers [0].dataLength = withSentTime ? sizeof (ENetProtocolHeader) : (size_t) & ((ENetProtocolHeader *) 0) -> sentTime;
    buffers [1].data = (void *) command;
    buffers [1].dataLength = commandLength;

    if (host -> checksum != NULL)
    {
        enet_uint8 * checksum = & headerData [buffers [0].dataLength];
        enet_uint32 newChecksum = handshake -> clientPeerID < ENET_PROTOCOL_MAXIMUM_PEER_ID ? handshake -> verify.connectID : 0;
        memcpy (checksum, & newChecksum, sizeof (enet_uint32));
        buffers [0].dataLength += sizeof (enet_uint32);
        newChecksum = host -> checksum (buffers, 2);
        memcpy (checksum, & newChecksum, sizeof (enet_uint32));
    }

    sentLength = enet_socket_send (host -> socket, host -> addressFamily, address, buffers, 2);
    if (sentLength > 0)
    {
       host -> totalSentData += sentLength;
       host -> totalSentPackets ++;
    }
}

/* What the DISCONNECT that refuses a handshake's client costs at most (with a checksum;
   enet_protocol_handshake_refuse): every VERIFY_CONNECT leaves that much credit unspent, so
   that a client told it joined can always be told it did not. */
static size_t
enet_protocol_refusal_bytes (const ENetHost * host)
{
    return (size_t) & ((ENetProtocolHeader *) 0) -> sentTime + sizeof (ENetProtocolDisconnect) + sizeof (enet_uint32);
}

/* Sends the VERIFY_CONNECT that carries sentTimes [which], if the client's address has earned
   it (and the refusal after it) and the handshake has answers left. Returns whether it went. */
static int
enet_protocol_handshake_verify (ENetHost * host, const ENetAddress * address, ENetHandshake * handshake, int which)
{
    size_t bytes = sizeof (ENetProtocolHeader) + sizeof (ENetProtocolVerifyConnect) + (host -> checksum != NULL ? sizeof (enet_uint32) : 0);

    if (handshake -> answers >= ENET_HOST_CONNECT_ANSWERS ||
        handshake -> credit < bytes + enet_protocol_refusal_bytes (host) ||
        ! enet_protocol_handshake_spend (handshake, bytes))
      return 0;

    handshake -> issued |= 1 << which;
    ++ handshake -> answers;
    handshake -> answerTime = ENET_MAX (host -> serviceTime, 1);
    ++ host -> connectsAnswered;

    enet_protocol_handshake_send (host, address, handshake, & handshake -> verify, sizeof (ENetProtocolVerifyConnect), 1, handshake -> sentTimes [which]);
    return 1;
}

/* Answers a datagram of the client's that did not complete its handshake with one
   VERIFY_CONNECT, never more (one datagram back per datagram): the first whose sent time the
   client still has to echo (it was lost, or its acknowledgement was). The second sent time goes
   only once the first is echoed, if someone is guessing or it was sent before. */
static void
enet_protocol_handshake_answer (ENetHost * host, const ENetAddress * address, ENetHandshake * handshake, int guessing)
{
    if (! (handshake -> echoed & 1))
      enet_protocol_handshake_verify (host, address, handshake, 0);
    else
    if (! (handshake -> echoed & 2) && ((handshake -> issued & 2) || guessing))
      enet_protocol_handshake_verify (host, address, handshake, 1);
}

/* Tells a handshake's client that it has no peer: a DISCONNECT, unsequenced as
   enet_peer_disconnect_now sends it. A stock client takes it whether it is still connecting or
   already told it joined, and raises its disconnect event. Only a handshake that answered can
   have told its client anything; a client without a peer id cannot be reached. */
static void
enet_protocol_handshake_refuse (ENetHost * host, const ENetAddress * address, ENetHandshake * handshake)
{
    ENetProtocolDisconnect command;

    if (handshake -> issued == 0 || handshake -> clientPeerID >= ENET_PROTOCOL_MAXIMUM_PEER_ID ||
        ! enet_protocol_handshake_spend (handshake, enet_protocol_refusal_bytes (host)))
      return;

    command.header.command = ENET_PROTOCOL_COMMAND_DISCONNECT | ENET_PROTOCOL_COMMAND_FLAG_UNSEQUENCED;
    command.header.channelID = 0xFF;
    command.header.reliableSequenceNumber = 0;
    command.data = 0;
    enet_protocol_handshake_send (host, address, handshake, & command, sizeof (command), 0, 0);
}

/* Ends a handshake that did not complete: its client is told (DISCONNECT) unless nothing came
   from it on the offered slot, which means it never learnt it joined or has been silent since. */
static void
enet_protocol_handshake_end (ENetHost * host, const ENetAddress * address, ENetHandshake * handshake, int tell)
{
    if (tell || handshake -> heard)
      enet_protocol_handshake_refuse (host, address, handshake);
    if (handshake -> heard)
    {
       /* Its client may still send under these sessions (the DISCONNECT may be lost). */
       ENetPeer * label = & host -> peers [ENET_NET_TO_HOST_16 (handshake -> verify.outgoingPeerID)];

       label -> offeredIncomingSessionID = handshake -> verify.incomingSessionID;
       label -> offeredOutgoingSessionID = handshake -> verify.outgoingSessionID;
    }
    handshake -> startTime = 0;
}

/* A handshake whose client was heard on its slot ends connectTimeout after its CONNECT (told
   DISCONNECT); one never heard lives twice as long and ends quietly, so that a client whose
   VERIFY_CONNECT or acknowledgement is slow, or which repeats its CONNECT just after the first
   connectTimeout, still finds the same handshake (a new one would offer other terms than those
   it may have accepted already). */
static int
enet_protocol_handshake_expired (const ENetHost * host, const ENetHandshake * handshake)
{
    enet_uint32 age = ENET_TIME_DIFFERENCE (host -> serviceTime, handshake -> startTime);

    return age >= handshake -> lifetime && (handshake -> heard || age >= 2 * handshake -> lifetime);
}

/* The session IDs a CONNECT gets through a slot's id, as stock ENet chooses them: the next ones
   after what the client asks (or the slot's last), skipping the slot's last; and here also
   skipping the last ones a client of that id may still send with although it has no peer
   (local patch 0024: a handshake that ended after its client was heard, or a peer aliased away,
   never set the slot's own), so that its late datagrams are not taken for the new one's. Two
   bits cannot remember more: see docs/handshake.md, "Known limits". Local patch 0036: the first
   of those that is also not in `avoid` (bit i: session i), when there is one. Only the three
   sessions after the requested one are candidates, as in stock ENet: never the requested one
   itself, which a reconnecting client asks with and its old connection's late datagrams carry. */
static enet_uint8
enet_protocol_next_session (enet_uint8 requested, enet_uint8 last, enet_uint8 late, enet_uint8 avoid)
{
    enet_uint8 sessionID = requested, first = 0xFF;
    int tries;

    for (tries = 0; tries < 3; ++ tries)
    {
        sessionID = (sessionID + 1) & (ENET_PROTOCOL_HEADER_SESSION_MASK >> ENET_PROTOCOL_HEADER_SESSION_SHIFT);
        if (sessionID == last || sessionID == late)
          continue;
        if (! (avoid & (1u << sessionID)))
          return sessionID;
        if (first == 0xFF)
          first = sessionID;
    }
    return first;
}

/* `avoid`: the sessions the host sends with to the client's peer id from its address and port in
   its other connections and handshakes (local patch 0036), kept out of the one it sends with in
   this one where the two bits allow. */
static void
enet_protocol_connect_sessions (const ENetPeer * peer, const ENetProtocol * command, enet_uint8 avoid, enet_uint8 * incomingSessionID, enet_uint8 * outgoingSessionID)
{
    * incomingSessionID = enet_protocol_next_session (command -> connect.incomingSessionID == 0xFF ? peer -> outgoingSessionID : command -> connect.incomingSessionID,
                                                      peer -> outgoingSessionID, peer -> offeredIncomingSessionID, avoid);
    * outgoingSessionID = enet_protocol_next_session (command -> connect.outgoingSessionID == 0xFF ? peer -> incomingSessionID : command -> connect.outgoingSessionID,
                                                      peer -> incomingSessionID, peer -> offeredOutgoingSessionID, 0);
}

/* A handshake for a CONNECT through a slot: the VERIFY_CONNECT that answers it, built now from the
   host's settings as stock ENet builds it, and the rest of what the peer will need. */
static void
enet_protocol_handshake_create (ENetHost * host, ENetHandshake * handshake, const ENetPeer * slot, const ENetProtocol * command, enet_uint8 avoid)
{
    size_t channelCount = ENET_NET_TO_HOST_32 (command -> connect.channelCount);
    enet_uint32 mtu = ENET_NET_TO_HOST_32 (command -> connect.mtu), windowSize;
    ENetProtocolVerifyConnect * verify = & handshake -> verify;

    memset (handshake, 0, sizeof (ENetHandshake));

    if (channelCount > host -> channelLimit)
      channelCount = host -> channelLimit;

    if (mtu < ENET_PROTOCOL_MINIMUM_MTU)
      mtu = ENET_PROTOCOL_MINIMUM_MTU;
    else
    if (mtu > ENET_PROTOCOL_MAXIMUM_MTU)
      mtu = ENET_PROTOCOL_MAXIMUM_MTU;

    if (mtu > host -> mtu)
      mtu = host -> mtu;

    if (host -> incomingBandwidth == 0)
      windowSize = ENET_PROTOCOL_MAXIMUM_WINDOW_SIZE;
    else
      windowSize = (host -> incomingBandwidth / ENET_PEER_WINDOW_SIZE_SCALE) *
                     ENET_PROTOCOL_MINIMUM_WINDOW_SIZE;

    if (windowSize > ENET_NET_TO_HOST_32 (command -> connect.windowSize))
      windowSize = ENET_NET_TO_HOST_32 (command -> connect.windowSize);

    if (windowSize < ENET_PROTOCOL_MINIMUM_WINDOW_SIZE)
      windowSize = ENET_PROTOCOL_MINIMUM_WINDOW_SIZE;
    else
    if (windowSize > ENET_PROTOCOL_MAXIMUM_WINDOW_SIZE)
      windowSize = ENET_PROTOCOL_MAXIMUM_WINDOW_SIZE;

    verify -> header.command = ENET_PROTOCOL_COMMAND_VERIFY_CONNECT | ENET_PROTOCOL_COMMAND_FLAG_ACKNOWLEDGE;
    verify -> header.channelID = 0xFF;
    verify -> header.reliableSequenceNumber = ENET_HOST_TO_NET_16 (1);
    verify -> outgoingPeerID = ENET_HOST_TO_NET_16 (slot -> incomingPeerID);
    enet_protocol_connect_sessions (slot, command, avoid, & verify -> incomingSessionID, & verify -> outgoingSessionID);
    verify -> mtu = ENET_HOST_TO_NET_32 (mtu);
    verify -> windowSize = ENET_HOST_TO_NET_32 (windowSize);
    verify -> channelCount = ENET_HOST_TO_NET_32 (channelCount);
    verify -> incomingBandwidth = ENET_HOST_TO_NET_32 (host -> incomingBandwidth);
    verify -> outgoingBandwidth = ENET_HOST_TO_NET_32 (host -> outgoingBandwidth);
    verify -> packetThrottleInterval = command -> connect.packetThrottleInterval;
    verify -> packetThrottleAcceleration = command -> connect.packetThrottleAcceleration;
    verify -> packetThrottleDeceleration = command -> connect.packetThrottleDeceleration;
    verify -> connectID = command -> connect.connectID;

    handshake -> connectData = command -> connect.data;
    handshake -> incomingBandwidth = ENET_NET_TO_HOST_32 (command -> connect.incomingBandwidth);
    handshake -> outgoingBandwidth = ENET_NET_TO_HOST_32 (command -> connect.outgoingBandwidth);
    handshake -> clientPeerID = ENET_NET_TO_HOST_16 (command -> connect.outgoingPeerID);
    handshake -> startTime = ENET_MAX (host -> serviceTime, 1);
    handshake -> lifetime = host -> connectTimeout;
    handshake -> sentTimes [0] = enet_protocol_connect_sent_time (host);
    do handshake -> sentTimes [1] = enet_protocol_connect_sent_time (host);
    while (handshake -> sentTimes [1] == handshake -> sentTimes [0]);
    enet_protocol_handshake_earn (host, handshake);
}

/* A slot's state for a connection from the handshake's client: as stock ENet sets it at CONNECT,
   from the terms the handshake answered with. */
static int
enet_protocol_setup_connect_peer (ENetHost * host, ENetPeer * peer, const ENetAddress * address, const ENetHandshake * handshake)
{
    const ENetProtocolVerifyConnect * verify = & handshake -> verify;
    ENetChannel * channel;
    size_t channelCount = ENET_NET_TO_HOST_32 (verify -> channelCount);
    enet_uint32 outgoingBandwidth = ENET_NET_TO_HOST_32 (verify -> outgoingBandwidth);

    peer -> channels = (ENetChannel *) enet_malloc (channelCount * sizeof (ENetChannel));
    if (peer -> channels == NULL)
      return -1;
    peer -> channelCount = channelCount;
    peer -> state = ENET_PEER_STATE_ACKNOWLEDGING_CONNECT;
    peer -> connectID = verify -> connectID;
    peer -> address = * address;
    enet_host_index_peer (host, peer);
    enet_host_sync_slot (host, peer);
    peer -> mtu = ENET_NET_TO_HOST_32 (verify -> mtu);
    peer -> outgoingPeerID = handshake -> clientPeerID;
    peer -> incomingBandwidth = handshake -> incomingBandwidth;
    peer -> outgoingBandwidth = handshake -> outgoingBandwidth;
    peer -> packetThrottleInterval = ENET_NET_TO_HOST_32 (verify -> packetThrottleInterval);
    peer -> packetThrottleAcceleration = ENET_NET_TO_HOST_32 (verify -> packetThrottleAcceleration);
    peer -> packetThrottleDeceleration = ENET_NET_TO_HOST_32 (verify -> packetThrottleDeceleration);
    peer -> eventData = ENET_NET_TO_HOST_32 (handshake -> connectData);
    peer -> outgoingSessionID = verify -> incomingSessionID;
    peer -> incomingSessionID = verify -> outgoingSessionID;

    for (channel = peer -> channels;
         channel < & peer -> channels [channelCount];
         ++ channel)
    {
        channel -> outgoingReliableSequenceNumber = 0;
        channel -> outgoingUnreliableSequenceNumber = 0;
        channel -> incomingReliableSequenceNumber = 0;
        channel -> incomingUnreliableSequenceNumber = 0;

        enet_list_clear (& channel -> incomingReliableCommands);
        enet_list_clear (& channel -> incomingUnreliableCommands);
        channel -> incomingReliableTable = NULL;
        channel -> incomingReliableCount = 0;

        channel -> usedReliableWindows = 0;
        memset (channel -> reliableWindows, 0, sizeof (channel -> reliableWindows));
    }

    if (outgoingBandwidth == 0 &&
        peer -> incomingBandwidth == 0)
      peer -> windowSize = ENET_PROTOCOL_MAXIMUM_WINDOW_SIZE;
    else
    if (outgoingBandwidth == 0 ||
        peer -> incomingBandwidth == 0)
      peer -> windowSize = (ENET_MAX (outgoingBandwidth, peer -> incomingBandwidth) /
                                    ENET_PEER_WINDOW_SIZE_SCALE) *
                                      ENET_PROTOCOL_MINIMUM_WINDOW_SIZE;
    else
      peer -> windowSize = (ENET_MIN (outgoingBandwidth, peer -> incomingBandwidth) /
                                    ENET_PEER_WINDOW_SIZE_SCALE) * 
                                      ENET_PROTOCOL_MINIMUM_WINDOW_SIZE;

    if (peer -> windowSize < ENET_PROTOCOL_MINIMUM_WINDOW_SIZE)
      peer -> windowSize = ENET_PROTOCOL_MINIMUM_WINDOW_SIZE;
    else
    if (peer -> windowSize > ENET_PROTOCOL_MAXIMUM_WINDOW_SIZE)
      peer -> windowSize = ENET_PROTOCOL_MAXIMUM_WINDOW_SIZE;

    return 0;
}

/* A round-trip sample: the peer's estimates and throttle, as an acknowledgement updates them. */
static void
enet_protocol_update_round_trip_time (ENetHost * host, ENetPeer * peer, enet_uint32 roundTripTime)
{
    roundTripTime = ENET_MAX (roundTripTime, 1);

    if (peer -> lastReceiveTime > 0)
    {
       enet_peer_throttle (peer, roundTripTime);

       peer -> roundTripTimeVariance -= peer -> roundTripTimeVariance / 4;

       if (roundTripTime >= peer -> roundTripTime)
       {
          enet_uint32 diff = roundTripTime - peer -> roundTripTime;
          peer -> roundTripTimeVariance += diff / 4;
          peer -> roundTripTime += diff / 8;
       }
       else
       {
          enet_uint32 diff = peer -> roundTripTime - roundTripTime;
          peer -> roundTripTimeVariance += diff / 4;
          peer -> roundTripTime -= diff / 8;
       }
    }
    else
    {
       peer -> roundTripTime = roundTripTime;
       peer -> roundTripTimeVariance = (roundTripTime + 1) / 2;
    }

    if (peer -> roundTripTime < peer -> lowestRoundTripTime)
      peer -> lowestRoundTripTime = peer -> roundTripTime;

    if (peer -> roundTripTimeVariance > peer -> highestRoundTripTimeVariance)
      peer -> highestRoundTripTimeVariance = peer -> roundTripTimeVariance;

    if (peer -> packetThrottleEpoch == 0 ||
        ENET_TIME_DIFFERENCE (host -> serviceTime, peer -> packetThrottleEpoch) >= peer -> packetThrottleInterval)
    {
        peer -> lastRoundTripTime = peer -> lowestRoundTripTime;
        peer -> lastRoundTripTimeVariance = ENET_MAX (peer -> highestRoundTripTimeVariance, 1);
        peer -> lowestRoundTripTime = peer -> roundTripTime;
        peer -> highestRoundTripTimeVariance = peer -> roundTripTimeVariance;
        peer -> packetThrottleEpoch = host -> serviceTime;
    }
}

/* The peer in its slot has passed its handshake: VERIFY_CONNECT counts as its reliable command 1,
   sent and acknowledged, the first round-trip sample is taken from when it was sent, and the
   connect event follows, as when stock ENet takes that acknowledgement. */
static void
enet_protocol_complete_handshake (ENetHost * host, ENetEvent * event, ENetPeer * peer, const ENetHandshake * handshake)
{
    peer -> flags &= ~ ENET_PEER_FLAG_UNVERIFIED;
    enet_host_sync_slot (host, peer);
    peer -> outgoingReliableSequenceNumber = 1;
    /* Throttle parameters the application set while the peer was unverified were kept back
       (enet_peer_throttle_configure, local patch 0031): its client hears of them now. */
    if (peer -> packetThrottleInterval != ENET_NET_TO_HOST_32 (handshake -> verify.packetThrottleInterval) ||
        peer -> packetThrottleAcceleration != ENET_NET_TO_HOST_32 (handshake -> verify.packetThrottleAcceleration) ||
        peer -> packetThrottleDeceleration != ENET_NET_TO_HOST_32 (handshake -> verify.packetThrottleDeceleration))
      enet_peer_throttle_configure (peer, peer -> packetThrottleInterval, peer -> packetThrottleAcceleration, peer -> packetThrottleDeceleration);
    enet_protocol_update_round_trip_time (host, peer, ENET_TIME_DIFFERENCE (host -> serviceTime, handshake -> answerTime));
    peer -> lastReceiveTime = ENET_MAX (host -> serviceTime, 1);
    ++ host -> connectsCompleted;

    enet_protocol_notify_connect (host, peer, event);
}

/* Ends an unverified half-open peer's handshake and frees its slot (no event: its application
   never saw it). */
static void
enet_protocol_end_unverified_peer (ENetHost * host, ENetPeer * peer, int tell)
{
    enet_protocol_handshake_end (host, & peer -> address, & peer -> handshake, tell);
    enet_peer_reset (peer);
}

/* An IPv4 address is one address; an IPv6 client holds a whole /64 (link-local addresses are
   told apart by their interface). Every per-address rule compares addresses with this. Either
   side IPv4-mapped means an exact comparison (local patch 0030): ::ffff:0:0/96 lies inside ::/64,
   so an address of ::/64 such as ::1 would otherwise be the same source as every IPv4 address
   (the two sides share their first 64 bits, so both or neither are link-local). */
int
enet_address_same_source (const ENetAddress * address, const ENetAddress * other)
{
    static const enet_uint8 ipv4Mapped [12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF };

    if (memcmp (address -> host, other -> host, 8))
      return 0;
    if (! memcmp (address -> host, ipv4Mapped, sizeof (ipv4Mapped)) ||
        ! memcmp (other -> host, ipv4Mapped, sizeof (ipv4Mapped)) ||
        (address -> host [0] == 0xFE && (address -> host [1] & 0xC0) == 0x80))
      return ! memcmp (address -> host, other -> host, sizeof (address -> host)) && address -> scopeID == other -> scopeID;
    return 1;
}

/* The record table: a ring of connectRecordLimit records in the order they were made, so that
   the oldest is the one replaced (an attacker cannot aim at a client's record, and every record
   lives as long as the table's size allows), and hash chains by address and port. */
static enet_uint32 *
enet_protocol_connect_record_chain (ENetHost * host, const ENetAddress * address)
{
    enet_protocol_uint64 a, b;

    memcpy (& a, address -> host, sizeof (a));
    memcpy (& b, address -> host + sizeof (a), sizeof (b));
    b ^= (enet_protocol_uint64) address -> port << 48;
    return & host -> connectRecordChains [enet_host_hash (host, a, b) & (host -> connectRecordLimit - 1)];
}

/* A record is found until its handshake's longest life is over; a heard one past
   connectTimeout is then ended by whoever finds it (enet_protocol_handshake_expired). A heard
   one is found until it is ended (local patch 0034): when a lowered connectTimeout leaves records
   of the longer one at the ring's head, the sweep may reach it only after twice its lifetime,
   and its client, which may have been told it joined, must then still be told DISCONNECT when
   it next sends. It counts among its endpoint's handshakes until then. */
static int
enet_protocol_connect_record_live (const ENetHost * host, const ENetConnectRecord * record)
{
    return record -> handshake.startTime != 0 &&
           (record -> handshake.heard ||
            ENET_TIME_DIFFERENCE (host -> serviceTime, record -> handshake.startTime) < 2 * record -> handshake.lifetime);
}

/* Takes a record out of its hash chain and releases the slot it reserved; the caller ends its
   handshake. Its place in the ring stays taken until the ring's head reaches it. */
static void
enet_protocol_release_connect_record (ENetHost * host, ENetConnectRecord * record)
{
    enet_uint32 index = (enet_uint32) (record - host -> connectRecords) + 1, * link;
    enet_uint16 slot = ENET_NET_TO_HOST_16 (record -> handshake.verify.outgoingPeerID);

    for (link = enet_protocol_connect_record_chain (host, & record -> address);
         * link != 0;
         link = & host -> connectRecords [* link - 1].next)
    {
       if (* link == index)
       {
          * link = record -> next;
          break;
       }
    }
    record -> next = 0;

    if (slot < host -> peerCount && host -> peers [slot].connectReservation == index)
    {
      host -> peers [slot].connectReservation = 0;
      enet_host_sync_slot (host, & host -> peers [slot]);
    }
}

/* Frees the ring's oldest place, ending its record's handshake first if it is live (evicted: its
   client may have been told it joined). */
static void
enet_protocol_recycle_connect_record (ENetHost * host)
{
    ENetConnectRecord * record = & host -> connectRecords [host -> connectRecordHead];

    if (record -> handshake.startTime != 0)
    {
       ++ host -> connectRecordsEvicted;
       enet_protocol_release_connect_record (host, record);
       enet_protocol_handshake_end (host, & record -> address, & record -> handshake, 1);
    }

    host -> connectRecordHead = (host -> connectRecordHead + 1) & (host -> connectRecordLimit - 1);
    -- host -> connectRecordCount;
    if (host -> connectRecordSwept > 0)
      -- host -> connectRecordSwept;
}

/* Ends a record's handshake (see enet_protocol_handshake_end). */
static void
enet_protocol_end_connect_record (ENetHost * host, ENetConnectRecord * record, int tell)
{
    enet_protocol_release_connect_record (host, record);
    enet_protocol_handshake_end (host, & record -> address, & record -> handshake, tell);
}

/* Ends the records whose handshakes expired, oldest first (a heard one behind an unheard one
   ends when its client next sends, or when the sweep reaches it). connectRecordSwept counts the
   records from the ring's head that have ended. */
static void
enet_protocol_sweep_connect_records (ENetHost * host)
{
    while (host -> connectRecordSwept < host -> connectRecordCount)
    {
       ENetConnectRecord * record = & host -> connectRecords [(host -> connectRecordHead + host -> connectRecordSwept) & (host -> connectRecordLimit - 1)];

       if (record -> handshake.startTime != 0)
       {
          if (! enet_protocol_handshake_expired (host, & record -> handshake))
            break;
          ++ host -> connectRecordsExpired;
          enet_protocol_end_connect_record (host, record, 0);
       }
       ++ host -> connectRecordSwept;
    }
}

/* The live record of the received datagram's address and port: for a CONNECT with this connect
   ID (byConnectID), or offering this slot with this session (the session is not checked for a
   client without a peer id, as stock ENet does not). */
static ENetConnectRecord *
enet_protocol_find_connect_record (ENetHost * host, int byConnectID, enet_uint32 connectID, enet_uint16 slot, enet_uint8 sessionID)
{
    enet_uint32 index;

    if (host -> connectRecords == NULL)
      return NULL;

    for (index = * enet_protocol_connect_record_chain (host, & host -> receivedAddress);
         index != 0;
         index = host -> connectRecords [index - 1].next)
    {
       ENetConnectRecord * record = & host -> connectRecords [index - 1];
       const ENetHandshake * handshake = & record -> handshake;

       if (! enet_protocol_connect_record_live (host, record) ||
           record -> address.port != host -> receivedAddress.port ||
           memcmp (record -> address.host, host -> receivedAddress.host, sizeof (record -> address.host)))
         continue;

       if (byConnectID ?
             handshake -> verify.connectID == connectID :
             ENET_NET_TO_HOST_16 (handshake -> verify.outgoingPeerID) == slot &&
             (handshake -> clientPeerID >= ENET_PROTOCOL_MAXIMUM_PEER_ID || sessionID == handshake -> verify.outgoingSessionID))
         return record;
    }
    return NULL;
}

/* A new record for the received CONNECT, offering `slot`: the table is allocated when first
   needed and never grows; when it is full, the oldest record is replaced, and its client, which
   may have been told it joined, is told it did not. */
static ENetConnectRecord *
enet_protocol_add_connect_record (ENetHost * host, const ENetProtocol * command, ENetPeer * slot, enet_uint8 avoid)
{
    ENetConnectRecord * record;
    enet_uint32 * chain, index;

    if (host -> connectRecords == NULL)
    {
       host -> connectRecords = (ENetConnectRecord *) enet_malloc (host -> connectRecordLimit * sizeof (ENetConnectRecord));
       host -> connectRecordChains = (enet_uint32 *) enet_malloc (host -> connectRecordLimit * sizeof (enet_uint32));
       if (host -> connectRecords == NULL || host -> connectRecordChains == NULL)
       {
          enet_free (host -> connectRecords);
          enet_free (host -> connectRecordChains);
          host -> connectRecords = NULL;
          host -> connectRecordChains = NULL;
          return NULL;
       }
       memset (host -> connectRecords, 0, host -> connectRecordLimit * sizeof (ENetConnectRecord));
       memset (host -> connectRecordChains, 0, host -> connectRecordLimit * sizeof (enet_uint32));
       host -> connectRecordHead = 0;
       host -> connectRecordCount = 0;
       host -> connectRecordSwept = 0;
    }

    if (host -> connectRecordCount == host -> connectRecordLimit)
      enet_protocol_recycle_connect_record (host);

    index = (enet_uint32) ((host -> connectRecordHead + host -> connectRecordCount) & (host -> connectRecordLimit - 1));
    ++ host -> connectRecordCount;
    record = & host -> connectRecords [index];

    record -> address = host -> receivedAddress;
    enet_protocol_handshake_create (host, & record -> handshake, slot, command, avoid);
    chain = enet_protocol_connect_record_chain (host, & record -> address);
    record -> next = * chain;
    * chain = index + 1;
    if (slot -> state == ENET_PEER_STATE_DISCONNECTED && slot -> connectReservation == 0)
    {
      slot -> connectReservation = index + 1;
      enet_host_sync_slot (host, slot);
    }
    return record;
}

/** Local patch: configures the defence against forged-CONNECT floods (PATCHES.md).
    @param host host to configure
    @param enabled 0 for stock ENet's handshake in new connections, otherwise the verified one;
           handshakes under way finish as they began either way
    @param recordLimit records kept under pressure, rounded down to a power of 2 (0: none); live
           records move to the new table, the oldest of those that do not fit are ended (their
           clients told DISCONNECT)
    @param timeout how long an unverified handshake whose client was heard lives, in ms (1 to
           ENET_TIME_OVERFLOW / 4); one never heard lives twice as long
    @returns 0, or -1 when the new table could not be allocated (nothing changed)
*/
int
enet_host_connect_defence (ENetHost * host, int enabled, size_t recordLimit, enet_uint32 timeout)
{
    size_t limit = 0;

    if (recordLimit > 0)
      for (limit = 1; limit <= recordLimit / 2; limit *= 2) ;

    if (limit != host -> connectRecordLimit && host -> connectRecords != NULL)
    {
       ENetConnectRecord * records = host -> connectRecords, * newRecords = NULL;
       enet_uint32 * chains = host -> connectRecordChains, * newChains = NULL;
       size_t head = host -> connectRecordHead, count = host -> connectRecordCount,
              oldLimit = host -> connectRecordLimit, live = 0, skip, i;
       ENetPeer * currentPeer;

       if (limit > 0)
       {
          newRecords = (ENetConnectRecord *) enet_malloc (limit * sizeof (ENetConnectRecord));
          newChains = (enet_uint32 *) enet_malloc (limit * sizeof (enet_uint32));
          if (newRecords == NULL || newChains == NULL)
          {
             enet_free (newRecords);
             enet_free (newChains);
             return -1;
          }
          memset (newRecords, 0, limit * sizeof (ENetConnectRecord));
          memset (newChains, 0, limit * sizeof (enet_uint32));
       }

       for (currentPeer = host -> peers; currentPeer < & host -> peers [host -> peerCount]; ++ currentPeer)
         currentPeer -> connectReservation = 0;

       for (i = 0; i < count; ++ i)
         if (enet_protocol_connect_record_live (host, & records [(head + i) & (oldLimit - 1)]))
           ++ live;
       skip = live > limit ? live - limit : 0;

       host -> connectRecords = newRecords;
       host -> connectRecordChains = newChains;
       host -> connectRecordLimit = limit;
       host -> connectRecordHead = 0;
       host -> connectRecordCount = 0;
       host -> connectRecordSwept = 0;

       for (i = 0; i < count; ++ i)
       {
          ENetConnectRecord * record = & records [(head + i) & (oldLimit - 1)], * moved;
          enet_uint32 * chain;
          enet_uint16 slot;

          if (! enet_protocol_connect_record_live (host, record))
            continue;
          if (skip > 0)
          {
             -- skip;
             ++ host -> connectRecordsEvicted;
             enet_protocol_handshake_end (host, & record -> address, & record -> handshake, 1);
             continue;
          }
          moved = & newRecords [host -> connectRecordCount ++];
          * moved = * record;
          chain = enet_protocol_connect_record_chain (host, & moved -> address);
          moved -> next = * chain;
          * chain = (enet_uint32) (moved - newRecords) + 1;
          slot = ENET_NET_TO_HOST_16 (moved -> handshake.verify.outgoingPeerID);
          if (slot < host -> peerCount)
            host -> peers [slot].connectReservation = (enet_uint32) (moved - newRecords) + 1;
       }

       enet_free (records);
       enet_free (chains);

       for (currentPeer = host -> peers; currentPeer < & host -> peers [host -> peerCount]; ++ currentPeer)
         enet_host_sync_slot (host, currentPeer);
    }

    host -> connectRecordLimit = limit;
    host -> connectDefence = enabled ? 1 : 0;
    host -> connectTimeout = timeout > 0 ? ENET_MIN (timeout, ENET_TIME_OVERFLOW / 4) : 1;
    return 0;
}

/* Slots and ids (local patch 0024). The host keeps three bitmaps over its slots (free, free and
   reserved by a live record, unverified: enet_host_sync_slot) and an index of its peers by
   address and port (enet_host_index_peer), so that a CONNECT finds a slot, and the ids its
   endpoint already uses, without walking the slots: a forged CONNECT costs the same on 4,095
   slots as on one.

   The slot a record offers is only the peer id its client will send: which slot the peer takes
   is decided when the client echoes (enet_protocol_record_slot). If the offered one was taken
   meanwhile, the peer takes another and is found by its alias: the offered id, with its client's
   address and port. Nothing on the wire shows it: a server never sends its own peer id after
   VERIFY_CONNECT. An aliased peer is never found by its own slot's id. Datagrams are told apart
   by endpoint, peer id and session only, so an endpoint never gets an id it uses already. */
#define ENET_PROTOCOL_LABEL_WORDS ((ENET_PROTOCOL_MAXIMUM_PEER_ID + 31) / 32)

enum
{
    ENET_SLOT_FREE_UNRESERVED,
    ENET_SLOT_FREE_RESERVED,
    ENET_SLOT_FREE,
    ENET_SLOT_UNVERIFIED,
    ENET_SLOT_ANY
};

static size_t
enet_protocol_bit_count (enet_uint32 bits)
{
    bits = bits - ((bits >> 1) & 0x55555555);
    bits = (bits & 0x33333333) + ((bits >> 2) & 0x33333333);
    return (((bits + (bits >> 4)) & 0x0F0F0F0F) * 0x01010101) >> 24;
}

/* Word `word` of a kind's bitmap. */
static enet_uint32
enet_protocol_slot_word (const ENetHost * host, int kind, size_t word)
{
    const enet_uint32 * bits = host -> slotBits;

    switch (kind)
    {
    case ENET_SLOT_FREE_UNRESERVED:
       return bits [word] & ~ bits [host -> slotWords + word];
    case ENET_SLOT_FREE_RESERVED:
       return bits [host -> slotWords + word];
    case ENET_SLOT_FREE:
       return bits [word];
    case ENET_SLOT_UNVERIFIED:
       return bits [2 * host -> slotWords + word];
    default:
       return word + 1 < host -> slotWords || host -> peerCount % 32 == 0 ? 0xFFFFFFFF : (1u << (host -> peerCount % 32)) - 1;
    }
}

static size_t
enet_protocol_count_slots (const ENetHost * host, int kind)
{
    size_t word, count = 0;

    for (word = 0; word < host -> slotWords; ++ word)
      count += enet_protocol_bit_count (enet_protocol_slot_word (host, kind, word));
    return count;
}

/* The first slot of a kind from slot `start` on (wrapping round) whose id is not in `used`
   (NULL: none is). */
static ENetPeer *
enet_protocol_find_slot (ENetHost * host, int kind, size_t start, const enet_uint32 * used)
{
    size_t i, word;

    if (host -> slotWords == 0)
      return NULL;

    start %= host -> peerCount;
    for (i = 0, word = start / 32; i <= host -> slotWords; ++ i, word = (word + 1) % host -> slotWords)
    {
       enet_uint32 bits = enet_protocol_slot_word (host, kind, word);
       size_t bit;

       if (used != NULL)
         bits &= ~ used [word];
       if (i == 0)
         bits &= ~ 0u << (start % 32);
       else
       if (i == host -> slotWords)
         bits &= (1u << (start % 32)) - 1;
       if (bits == 0)
         continue;
       for (bit = 0; ! (bits & (1u << bit)); ++ bit) ;
       return & host -> peers [word * 32 + bit];
    }
    return NULL;
}

/* Local patch 0038: the send pass visits every peer in use only when a ping may fall due (a
   "full" pass, at most ENET_SEND_PASS_FULL_MAXIMUM ms apart and, unless a pass was cut short, at
   least ENET_SEND_PASS_FULL_MINIMUM ms apart); every other pass visits the busy peers (something
   queued to send, a reliable command in flight: enet_host_mark_busy) and the unverified ones.
   A peer with nothing queued and nothing in flight has nothing to do in a pass but its ping, so
   a server's pass costs what its active peers cost, not what its slots do. */
#define ENET_SEND_PASS_FULL_MAXIMUM 1000
#define ENET_SEND_PASS_FULL_MINIMUM 10

static enet_uint32
enet_protocol_send_word (const ENetHost * host, size_t word, int full)
{
    if (full)
      return enet_protocol_slot_word (host, ENET_SLOT_ANY, word) & ~ host -> slotBits [word];
    return host -> slotBits [3 * host -> slotWords + word] | host -> slotBits [2 * host -> slotWords + word];
}

static int
enet_protocol_full_send_pass_due (const ENetHost * host)
{
    enet_uint32 ahead = host -> nextFullSendPass - host -> serviceTime;

    if (ahead != 0 && ahead <= ENET_SEND_PASS_FULL_MAXIMUM)
      return 0;
    if (ahead > ENET_SEND_PASS_FULL_MAXIMUM && ahead < 0x80000000u)
      return 1;
    return host -> serviceTime - host -> lastFullSendPass >= ENET_SEND_PASS_FULL_MINIMUM;
}

/* After the send pass visited a peer: it stays busy while it has anything to send or in flight;
   otherwise the next full pass comes no later than its next ping. */
static void
enet_protocol_sync_busy (ENetHost * host, ENetPeer * peer)
{
    enet_uint32 * busy = & host -> slotBits [3 * host -> slotWords + peer -> incomingPeerID / 32],
                bit = 1u << (peer -> incomingPeerID % 32),
                due;

    if (peer -> state != ENET_PEER_STATE_DISCONNECTED && peer -> state != ENET_PEER_STATE_ZOMBIE &&
        (! enet_list_empty (& peer -> acknowledgements) ||
         ! enet_list_empty (& peer -> outgoingCommands) ||
         ! enet_list_empty (& peer -> outgoingSendReliableCommands) ||
         ! enet_list_empty (& peer -> sentReliableCommands) ||
         (peer -> flags & ENET_PEER_FLAG_CONTINUE_SENDING) ||
         peer -> state == ENET_PEER_STATE_DISCONNECT_LATER))
    {
       * busy |= bit;
       return;
    }
    * busy &= ~ bit;
    /* An unverified peer is visited by every pass (its own bitmap) and has no ping of its own to
       time: its lastReceiveTime is 0, and its "ping" at pingInterval after the clock's start would
       make every pass after the 10 ms minimum a full one for as long as any handshake is half
       open, which one forged CONNECT makes it. */
    if (peer -> state == ENET_PEER_STATE_DISCONNECTED || peer -> state == ENET_PEER_STATE_ZOMBIE ||
        enet_protocol_peer_unverified (peer))
      return;
    /* The ping test is ENET_TIME_DIFFERENCE (serviceTime, lastReceiveTime) >= pingInterval, whose
       difference wraps after ENET_TIME_OVERFLOW (a day): with an interval of a day or more (2^32 - 1
       to never ping) the peer pings after a day of silence if at all, and lastReceiveTime +
       pingInterval is no time of a ping (2^31 or more wraps it into the past, which made every pass
       after the 10 ms minimum a full one). Such a peer is left to the full pass every 1000 ms. */
    if (peer -> pingInterval >= ENET_TIME_OVERFLOW)
      return;
    due = peer -> lastReceiveTime + peer -> pingInterval;
    if (due - host -> nextFullSendPass >= 0x80000000u)
      host -> nextFullSendPass = due;
}

/* Local patch 0029: the first bitmap word from `word` on whose 32 slots hold a peer, or
   slotWords (0038: of the peers this pass visits). Local patch 0037: the send pass asks it at the start of each word and walks the
   slots of a word that holds a peer one by one, as stock ENet walks them all: stepping from
   peer to peer through the bitmap (0029's first form) made each step wait on the one before,
   and cost a server with 2,000 peers in use 60 % more CPU than stock ENet's walk. */
static size_t
enet_protocol_first_used_word (const ENetHost * host, size_t word, int full)
{
    while (word < host -> slotWords && enet_protocol_send_word (host, word, full) == 0)
      ++ word;
    return word;
}

static void
enet_protocol_use_label (enet_uint32 * used, enet_uint16 label)
{
    used [label / 32] |= 1u << (label % 32);
}

/* What an endpoint (address and port) has here: the ids it sends to (`used`: its peers' slots
   or aliases, and its live records' offers), and the number of its handshakes under way, in
   unverified peers and live records (returned). For
   a CONNECT (`connect` not NULL), also the peer or the live record that the same connection
   (connect ID) has already, if any, and (local patch 0036) in `sessions` the sessions the host
   sends with to the CONNECT's client peer id in the endpoint's peers and live records: a stock
   client asks for the same sessions at every attempt, so an attempt it gave up would otherwise
   often hold the sessions its next one gets, and that handshake's DISCONNECT, when it ends,
   would end the next connection on the client. */
static size_t
enet_protocol_endpoint_state (ENetHost * host, const ENetAddress * address, const ENetProtocol * connect,
                              enet_uint32 * used, ENetPeer ** peer, ENetConnectRecord ** record, enet_uint8 * sessions)
{
    enet_uint32 index;
    size_t records = 0;
    enet_uint16 clientPeerID = connect != NULL ? ENET_NET_TO_HOST_16 (connect -> connect.outgoingPeerID) : ENET_PROTOCOL_MAXIMUM_PEER_ID;

    memset (used, 0, ENET_PROTOCOL_LABEL_WORDS * sizeof (enet_uint32));
    if (sessions != NULL)
      * sessions = 0;

    for (index = host -> endpointChains [enet_host_endpoint_chain (host, address)];
         index != 0;
         index = host -> peers [index - 1].endpointNext)
    {
       ENetPeer * currentPeer = & host -> peers [index - 1];

       if (currentPeer -> address.port != address -> port ||
           memcmp (currentPeer -> address.host, address -> host, sizeof (address -> host)))
         continue;
       if (connect != NULL && currentPeer -> state != ENET_PEER_STATE_CONNECTING &&
           currentPeer -> connectID == connect -> connect.connectID)
         * peer = currentPeer;
       if (sessions != NULL && currentPeer -> state != ENET_PEER_STATE_CONNECTING &&
           currentPeer -> outgoingPeerID == clientPeerID)
         * sessions |= 1u << (currentPeer -> outgoingSessionID & (ENET_PROTOCOL_HEADER_SESSION_MASK >> ENET_PROTOCOL_HEADER_SESSION_SHIFT));
       enet_protocol_use_label (used, (currentPeer -> flags & ENET_PEER_FLAG_ALIASED) ? currentPeer -> connectAlias : currentPeer -> incomingPeerID);
       /* Its unverified peers count with its live records (local patch 0032): otherwise one
          forged endpoint holds half the slots as unverified peers, all in this chain, which
          each of its datagrams then walks. */
       if (enet_protocol_peer_unverified (currentPeer))
         ++ records;
    }

    if (host -> connectRecords != NULL)
      for (index = * enet_protocol_connect_record_chain (host, address);
           index != 0;
           index = host -> connectRecords [index - 1].next)
      {
         ENetConnectRecord * currentRecord = & host -> connectRecords [index - 1];

         if (! enet_protocol_connect_record_live (host, currentRecord) ||
             currentRecord -> address.port != address -> port ||
             memcmp (currentRecord -> address.host, address -> host, sizeof (address -> host)))
           continue;
         if (connect != NULL && currentRecord -> handshake.verify.connectID == connect -> connect.connectID)
           * record = currentRecord;
         if (sessions != NULL && currentRecord -> handshake.clientPeerID == clientPeerID)
           * sessions |= 1u << (currentRecord -> handshake.verify.incomingSessionID & (ENET_PROTOCOL_HEADER_SESSION_MASK >> ENET_PROTOCOL_HEADER_SESSION_SHIFT));
         enet_protocol_use_label (used, ENET_NET_TO_HOST_16 (currentRecord -> handshake.verify.outgoingPeerID));
         ++ records;
      }

    return records;
}

/** Local patch 0024: the slot for an outgoing connection to `address` (enet_host_connect): the
    first free one that no live record reserves if there is one, else the first free one; never
    one whose id that endpoint sends to already (its datagrams for that id would reach the new
    peer, which checks no session while it connects). */
ENetPeer *
enet_host_free_slot (ENetHost * host, const ENetAddress * address)
{
    enet_uint32 used [ENET_PROTOCOL_LABEL_WORDS];
    ENetPeer * peer = NULL;
    ENetConnectRecord * record = NULL;

    enet_protocol_endpoint_state (host, address, NULL, used, & peer, & record, NULL);
    peer = enet_protocol_find_slot (host, ENET_SLOT_FREE_UNRESERVED, 0, used);
    return peer != NULL ? peer : enet_protocol_find_slot (host, ENET_SLOT_FREE, 0, used);
}

/* The peer that the received datagram's client addresses as `alias` with this session. */
static ENetPeer *
enet_protocol_find_alias (ENetHost * host, enet_uint16 alias, enet_uint8 sessionID)
{
    enet_uint32 index;

    for (index = host -> endpointChains [enet_host_endpoint_chain (host, & host -> receivedAddress)];
         index != 0;
         index = host -> peers [index - 1].endpointNext)
    {
       ENetPeer * peer = & host -> peers [index - 1];

       if ((peer -> flags & ENET_PEER_FLAG_ALIASED) && peer -> connectAlias == alias &&
           peer -> address.port == host -> receivedAddress.port &&
           ! memcmp (peer -> address.host, host -> receivedAddress.host, sizeof (peer -> address.host)) &&
           peer -> state != ENET_PEER_STATE_DISCONNECTED && peer -> state != ENET_PEER_STATE_ZOMBIE &&
           (peer -> outgoingPeerID >= ENET_PROTOCOL_MAXIMUM_PEER_ID || sessionID == peer -> incomingSessionID))
         return peer;
    }
    return NULL;
}

/* The slot for a record's client that has echoed: the one it was offered if free; else another
   free one (one no record reserves first), addressed through an alias; else one held by an
   unverified half-open peer (the offered one first), which gives way (a client that echoed beats
   one that has not: forged CONNECTs cannot keep a slot from anyone). Another slot's id does not
   matter: an aliased peer is never addressed by it. NULL when every slot holds a peer that passed
   its handshake. */
static ENetPeer *
enet_protocol_record_slot (ENetHost * host, ENetPeer * offered)
{
    ENetPeer * peer;

    if (offered -> state == ENET_PEER_STATE_DISCONNECTED)
      return offered;
    peer = enet_protocol_find_slot (host, ENET_SLOT_FREE_UNRESERVED, 0, NULL);
    if (peer == NULL)
      peer = enet_protocol_find_slot (host, ENET_SLOT_FREE, 0, NULL);
    if (peer == NULL)
      peer = enet_protocol_peer_unverified (offered) ? offered : enet_protocol_find_slot (host, ENET_SLOT_UNVERIFIED, 0, NULL);
    return peer;
}

/* Whether the address already has as many peers as the host allows (duplicatePeers; 0 while it
   refuses connections), `except` aside. Only peers that passed a handshake count: an unverified
   one proves nothing about its address, and counting it would let anyone who forges CONNECTs
   from a victim's address (any port) keep the victim out. */
static int
enet_protocol_source_full (ENetHost * host, const ENetAddress * address, const ENetPeer * except)
{
    const ENetPeer * currentPeer;
    size_t duplicatePeers = 0;

    if (host -> duplicatePeers >= host -> peerCount)
      return 0;

    for (currentPeer = host -> peers;
         currentPeer < & host -> peers [host -> peerCount];
         ++ currentPeer)
    {
       if (currentPeer != except &&
           currentPeer -> state != ENET_PEER_STATE_DISCONNECTED &&
           currentPeer -> state != ENET_PEER_STATE_CONNECTING &&
           ! enet_protocol_peer_unverified (currentPeer) &&
           enet_address_same_source (& currentPeer -> address, address))
         ++ duplicatePeers;
    }
    return duplicatePeers >= host -> duplicatePeers;
}

/* Completes a record's handshake: its client gets a slot (enet_protocol_record_slot) and the
   peer its CONNECT would have made there; or it is told DISCONNECT at once when every slot holds
   a peer that passed its handshake, or its address has as many peers as the host allows (also
   when the host refuses connections). */
static ENetPeer *
enet_protocol_accept_connect_record (ENetHost * host, ENetEvent * event, ENetConnectRecord * record)
{
    enet_uint16 offered = ENET_NET_TO_HOST_16 (record -> handshake.verify.outgoingPeerID);
    ENetPeer * peer = enet_protocol_record_slot (host, & host -> peers [offered]);

    if (peer == NULL || enet_protocol_source_full (host, & record -> address, peer))
    {
       ++ host -> connectsDropped;
       enet_protocol_end_connect_record (host, record, 1);
       return NULL;
    }

    if (peer -> state != ENET_PEER_STATE_DISCONNECTED)
    {
       ++ host -> connectsDropped;
       enet_protocol_end_unverified_peer (host, peer, 1);
    }

    if (enet_protocol_setup_connect_peer (host, peer, & record -> address, & record -> handshake) < 0)
    {
       enet_peer_reset (peer);
       enet_protocol_end_connect_record (host, record, 1);
       return NULL;
    }
    if (peer -> incomingPeerID != offered)
    {
       peer -> connectAlias = offered;
       peer -> flags |= ENET_PEER_FLAG_ALIASED;
    }

    enet_protocol_complete_handshake (host, event, peer, & record -> handshake);
    enet_protocol_release_connect_record (host, record);
    record -> handshake.startTime = 0;
    return peer;
}

/* What a datagram from a handshake's client to its offered slot does. Its leading
   acknowledgements (stock ENet sends them first) of reliable command 1 on channel 0xFF are
   echoes, each of a sent time the handshake issued or a wrong one. The handshake completes when
   every sent time it issued is echoed, the second one included while someone is guessing. A wrong
   echo is a guess: the datagram gets no answer, and the echo counts against the handshake
   (ENET_HOST_CONNECT_FAILURES end it) and the host. A DISCONNECT after the acknowledgements means
   the client left. Anything else means an echo was lost: the VERIFY_CONNECTs still to echo go
   again (or the second for the first time, after the first echo while someone is guessing).
   Returns ENET_HANDSHAKE_DONE, _WAIT, _LEFT or _FAILED. */
enum
{
    ENET_HANDSHAKE_FAILED = -2,
    ENET_HANDSHAKE_LEFT   = -1,
    ENET_HANDSHAKE_WAIT   = 0,
    ENET_HANDSHAKE_DONE   = 1
};

static int
enet_protocol_handshake_datagram (ENetHost * host, const ENetAddress * address, ENetHandshake * handshake, size_t headerSize)
{
    enet_uint8 * currentData = host -> receivedData + headerSize;
    int echoed = 0, wrong = 0, left = 0, guessing;

    handshake -> heard = 1;
    enet_protocol_handshake_earn (host, handshake);

    while (currentData + sizeof (ENetProtocolCommandHeader) <= & host -> receivedData [host -> receivedDataLength])
    {
       const ENetProtocol * command = (const ENetProtocol *) currentData;
       enet_uint8 commandNumber = command -> header.command & ENET_PROTOCOL_COMMAND_MASK;
       enet_uint16 echo;
       int which;

       if (commandNumber != ENET_PROTOCOL_COMMAND_ACKNOWLEDGE ||
           currentData + sizeof (ENetProtocolAcknowledge) > & host -> receivedData [host -> receivedDataLength])
       {
          left = commandNumber == ENET_PROTOCOL_COMMAND_DISCONNECT;
          break;
       }
       currentData += sizeof (ENetProtocolAcknowledge);

       if (command -> header.channelID != 0xFF ||
           ENET_NET_TO_HOST_16 (command -> acknowledge.receivedReliableSequenceNumber) != 1)
         continue;

       echo = ENET_NET_TO_HOST_16 (command -> acknowledge.receivedSentTime);
       for (which = 0; which < 2; ++ which)
       {
          if ((handshake -> issued & (1 << which)) && echo == handshake -> sentTimes [which])
            break;
       }
       if (which < 2)
       {
          handshake -> echoed |= 1 << which;
          echoed = 1;
          continue;
       }

       wrong = 1;
       enet_protocol_connect_guessed (host);
       if (++ handshake -> failures >= ENET_HOST_CONNECT_FAILURES)
       {
          ++ host -> connectsDropped;
          return ENET_HANDSHAKE_FAILED;
       }
    }

    guessing = enet_protocol_connect_guessing (host);
    if ((handshake -> echoed & 1) && handshake -> echoed == handshake -> issued &&
        (! guessing || (handshake -> echoed & 2)))
      return ENET_HANDSHAKE_DONE;

    if (left)
      return ENET_HANDSHAKE_LEFT;

    if (! wrong)
    {
       if (! echoed)
         enet_protocol_handshake_answer (host, address, handshake, guessing);
       else
       if (guessing && ! (handshake -> issued & 2))
         enet_protocol_handshake_verify (host, address, handshake, 1);
    }
    return ENET_HANDSHAKE_WAIT;
}

static ENetPeer *
enet_protocol_handle_connect (ENetHost * host, ENetProtocolHeader * header, ENetProtocol * command)
{
    size_t channelCount = ENET_NET_TO_HOST_32 (command -> connect.channelCount), records, unreserved, unverified;
    ENetPeer * peer = NULL;
    ENetConnectRecord * record = NULL;
    ENetHandshake handshake;
    ENetProtocol verifyCommand;
    enet_uint32 used [ENET_PROTOCOL_LABEL_WORDS];
    enet_uint8 sessions;

    if (channelCount < ENET_PROTOCOL_MINIMUM_CHANNEL_COUNT ||
        channelCount > ENET_PROTOCOL_MAXIMUM_CHANNEL_COUNT)
      return NULL;

    /* A CONNECT without a peer id of the client's own asks for datagrams that no session tells
       apart; no ENet client sends one (local patch 0023). */
    if (host -> connectDefence && ENET_NET_TO_HOST_16 (command -> connect.outgoingPeerID) >= ENET_PROTOCOL_MAXIMUM_PEER_ID)
      return NULL;

    records = enet_protocol_endpoint_state (host, & host -> receivedAddress, command, used, & peer, & record, & sessions);

    /* The client's own retransmission: stock ENet ignores it and retransmits on its timer; an
       unverified handshake answers it instead. */
    if (peer != NULL)
    {
        if (enet_protocol_peer_unverified (peer))
        {
            enet_protocol_handshake_earn (host, & peer -> handshake);
            enet_protocol_handshake_answer (host, & peer -> address, & peer -> handshake, enet_protocol_connect_guessing (host));
        }
        return NULL;
    }
    if (record != NULL)
    {
        if (enet_protocol_handshake_expired (host, & record -> handshake))
        {
            ++ host -> connectRecordsExpired;
            enet_protocol_end_connect_record (host, record, 0);
            return NULL;
        }
        enet_protocol_handshake_earn (host, & record -> handshake);
        enet_protocol_handshake_answer (host, & record -> address, & record -> handshake, enet_protocol_connect_guessing (host));
        return NULL;
    }

    /* The lowest free id no record reserves, as stock ENet takes the lowest free slot. */
    peer = enet_protocol_find_slot (host, ENET_SLOT_FREE_UNRESERVED, 0, used);

    if (! host -> connectDefence)
    {
        /* Stock ENet's handshake. */
        if (peer == NULL)
          peer = enet_protocol_find_slot (host, ENET_SLOT_FREE, 0, used);
        if (peer == NULL || enet_protocol_source_full (host, & host -> receivedAddress, NULL))
          return NULL;
        enet_protocol_handshake_create (host, & handshake, peer, command, 0);
        if (enet_protocol_setup_connect_peer (host, peer, & host -> receivedAddress, & handshake) < 0)
          return NULL;
        verifyCommand.verifyConnect = handshake.verify;
        enet_peer_queue_outgoing_command (peer, & verifyCommand, NULL, 0, 0);
        return peer;
    }

    /* Under pressure, when unverified peers hold half the slots that nothing else holds or
       reserves, a CONNECT gets a record instead of a slot: a flood then fills the table, not the
       host. */
    unreserved = enet_protocol_count_slots (host, ENET_SLOT_FREE_UNRESERVED);
    unverified = enet_protocol_count_slots (host, ENET_SLOT_UNVERIFIED);
    if (peer != NULL &&
        (host -> connectRecordLimit == 0 || unverified * 2 < unreserved + unverified))
    {
        /* As many handshakes per endpoint as records (local patch 0032). */
        if (records >= ENET_HOST_CONNECT_ENDPOINT_RECORDS ||
            enet_protocol_source_full (host, & host -> receivedAddress, NULL))
          return NULL;
        enet_protocol_handshake_create (host, & peer -> handshake, peer, command, sessions);
        if (enet_protocol_setup_connect_peer (host, peer, & host -> receivedAddress, & peer -> handshake) < 0)
          return NULL;
        peer -> flags |= ENET_PEER_FLAG_UNVERIFIED;
        enet_host_sync_slot (host, peer);
        peer -> outgoingReliableSequenceNumber = 1;
        enet_protocol_handshake_answer (host, & peer -> address, & peer -> handshake, enet_protocol_connect_guessing (host));
        /* Nothing else in the CONNECT's datagram can be an echo of what was just sent. */
        return NULL;
    }

    /* A record: for a free id no record reserves, or one offered again (a free reserved id, an
       unverified peer's id, from a rotating cursor on; or, when the endpoint uses all of those,
       any id it does not use), the slot then chosen at the echo. Too many handshakes of one
       endpoint, live records and unverified peers (ENET_HOST_CONNECT_ENDPOINT_RECORDS), and it
       waits for one to end: a client host needs few, and every CONNECT of the endpoint walks them. Who is refused for having too many
       peers of its address is decided at the echo too. */
    if (host -> connectRecordLimit == 0 || records >= ENET_HOST_CONNECT_ENDPOINT_RECORDS)
      return NULL;
    if (peer == NULL)
    {
        peer = enet_protocol_find_slot (host, ENET_SLOT_FREE_RESERVED, host -> connectRecordSlot, used);
        if (peer == NULL)
          peer = enet_protocol_find_slot (host, ENET_SLOT_UNVERIFIED, host -> connectRecordSlot, used);
        if (peer == NULL && (unverified > 0 || enet_protocol_count_slots (host, ENET_SLOT_FREE) > 0))
          peer = enet_protocol_find_slot (host, ENET_SLOT_ANY, host -> connectRecordSlot, used);
        if (peer == NULL)
          return NULL;
        host -> connectRecordSlot = peer -> incomingPeerID + 1;
    }

    record = enet_protocol_add_connect_record (host, command, peer, sessions);
    if (record != NULL)
      enet_protocol_handshake_answer (host, & record -> address, & record -> handshake, enet_protocol_connect_guessing (host));
    return NULL;
}

static int
enet_protocol_handle_send_reliable (ENetHost * host, ENetPeer * peer, const ENetProtocol * command, enet_uint8 ** currentData)
{
    size_t dataLength;

    if (command -> header.channelID >= peer -> channelCount ||
        (peer -> state != ENET_PEER_STATE_CONNECTED && peer -> state != ENET_PEER_STATE_DISCONNECT_LATER))
      return -1;

    dataLength = ENET_NET_TO_HOST_16 (command -> sendReliable.dataLength);
    if (dataLength > host -> maximumPacketSize ||
        * currentData < host -> receivedData ||
        dataLength > (size_t) (& host -> receivedData [host -> receivedDataLength] - * currentData))
      return -1;

    * currentData += dataLength;

    if (enet_peer_queue_incoming_command (peer, command, (const enet_uint8 *) command + sizeof (ENetProtocolSendReliable), dataLength, ENET_PACKET_FLAG_RELIABLE, 0) == NULL)
      return -1;

    return 0;
}

static int
enet_protocol_handle_send_unsequenced (ENetHost * host, ENetPeer * peer, const ENetProtocol * command, enet_uint8 ** currentData)
{
    enet_uint32 unsequencedGroup, index;
    size_t dataLength;

    if (command -> header.channelID >= peer -> channelCount ||
        (peer -> state != ENET_PEER_STATE_CONNECTED && peer -> state != ENET_PEER_STATE_DISCONNECT_LATER))
      return -1;

    dataLength = ENET_NET_TO_HOST_16 (command -> sendUnsequenced.dataLength);
    if (dataLength > host -> maximumPacketSize ||
        * currentData < host -> receivedData ||
        dataLength > (size_t) (& host -> receivedData [host -> receivedDataLength] - * currentData))
      return -1; 

    * currentData += dataLength;

    unsequencedGroup = ENET_NET_TO_HOST_16 (command -> sendUnsequenced.unsequencedGroup);
    index = unsequencedGroup % ENET_PEER_UNSEQUENCED_WINDOW_SIZE;
   
    if (unsequencedGroup < peer -> incomingUnsequencedGroup)
      unsequencedGroup += 0x10000;

    if (unsequencedGroup >= (enet_uint32) peer -> incomingUnsequencedGroup + ENET_PEER_FREE_UNSEQUENCED_WINDOWS * ENET_PEER_UNSEQUENCED_WINDOW_SIZE)
      return 0;

    unsequencedGroup &= 0xFFFF;

    if (unsequencedGroup - index != peer -> incomingUnsequencedGroup)
    {
        peer -> incomingUnsequencedGroup = unsequencedGroup - index;

        memset (peer -> unsequencedWindow, 0, sizeof (peer -> unsequencedWindow));
    }
    else
    if (peer -> unsequencedWindow [index / 32] & (1u << (index % 32)))
      return 0;
      
    if (enet_peer_queue_incoming_command (peer, command, (const enet_uint8 *) command + sizeof (ENetProtocolSendUnsequenced), dataLength, ENET_PACKET_FLAG_UNSEQUENCED, 0) == NULL)
      return -1;
   
    peer -> unsequencedWindow [index / 32] |= 1u << (index % 32);
 
    return 0;
}

static int
enet_protocol_handle_send_unreliable (ENetHost * host, ENetPeer * peer, const ENetProtocol * command, enet_uint8 ** currentData)
{
    size_t dataLength;

    if (command -> header.channelID >= peer -> channelCount ||
        (peer -> state != ENET_PEER_STATE_CONNECTED && peer -> state != ENET_PEER_STATE_DISCONNECT_LATER))
      return -1;

    dataLength = ENET_NET_TO_HOST_16 (command -> sendUnreliable.dataLength);
    if (dataLength > host -> maximumPacketSize ||
        * currentData < host -> receivedData ||
        dataLength > (size_t) (& host -> receivedData [host -> receivedDataLength] - * currentData))
      return -1;

    * currentData += dataLength;

    if (enet_peer_queue_incoming_command (peer, command, (const enet_uint8 *) command + sizeof (ENetProtocolSendUnreliable), dataLength, 0, 0) == NULL)
      return -1;

    return 0;
}

/* A stock sender (enet_peer_send) cuts a packet of totalLength bytes into fragmentCount
   fragments of one size, the last one possibly shorter, and fragment n starts at n times that
   size. The size follows from any one fragment of the packet, so reference, the first fragment
   received of this packet, fixes it, and a fragment is accepted only if it is exactly its own
   slice. Fragments that overlap, leave gaps or run short would otherwise complete a packet
   whose unwritten bytes are whatever the heap held before. */
static int
enet_protocol_fragment_fits (const ENetProtocol * reference, enet_uint32 fragmentNumber, enet_uint32 fragmentOffset, enet_uint32 fragmentLength)
{
    enet_uint32 referenceNumber = ENET_NET_TO_HOST_32 (reference -> sendFragment.fragmentNumber),
                referenceLength = ENET_NET_TO_HOST_16 (reference -> sendFragment.dataLength),
                fragmentCount = ENET_NET_TO_HOST_32 (reference -> sendFragment.fragmentCount),
                totalLength = ENET_NET_TO_HOST_32 (reference -> sendFragment.totalLength),
                fragmentSize;

    if (referenceNumber + 1 < fragmentCount)
      fragmentSize = referenceLength;
    else
    if (fragmentCount > 1)
    {
       if ((totalLength - referenceLength) % (fragmentCount - 1) != 0)
         return 0;

       fragmentSize = (totalLength - referenceLength) / (fragmentCount - 1);
    }
    else
      fragmentSize = totalLength;

    if (fragmentSize == 0 ||
        fragmentSize > ENET_PROTOCOL_MAXIMUM_MTU ||
        totalLength / fragmentSize + (totalLength % fragmentSize != 0 ? 1 : 0) != fragmentCount ||
        fragmentNumber >= fragmentCount)
      return 0;

    /* fragmentNumber * fragmentSize < totalLength now, so the product cannot overflow. */
    if (fragmentOffset != fragmentNumber * fragmentSize)
      return 0;

    if (fragmentNumber + 1 < fragmentCount)
      return fragmentLength == fragmentSize;

    return fragmentLength == totalLength - fragmentOffset;
}

static int
enet_protocol_handle_send_fragment (ENetHost * host, ENetPeer * peer, const ENetProtocol * command, enet_uint8 ** currentData)
{
    enet_uint32 fragmentNumber,
           fragmentCount,
           fragmentOffset,
           fragmentLength,
           startSequenceNumber,
           totalLength;
    ENetChannel * channel;
    enet_uint16 startWindow, currentWindow;
    ENetIncomingCommand * startCommand = NULL;

    if (command -> header.channelID >= peer -> channelCount ||
        (peer -> state != ENET_PEER_STATE_CONNECTED && peer -> state != ENET_PEER_STATE_DISCONNECT_LATER))
      return -1;

    fragmentLength = ENET_NET_TO_HOST_16 (command -> sendFragment.dataLength);
    if (fragmentLength <= 0 ||
        fragmentLength > host -> maximumPacketSize ||
        * currentData < host -> receivedData ||
        fragmentLength > (size_t) (& host -> receivedData [host -> receivedDataLength] - * currentData))
      return -1;

    * currentData += fragmentLength;

    channel = & peer -> channels [command -> header.channelID];
    startSequenceNumber = ENET_NET_TO_HOST_16 (command -> sendFragment.startSequenceNumber);
    startWindow = startSequenceNumber / ENET_PEER_RELIABLE_WINDOW_SIZE;
    currentWindow = channel -> incomingReliableSequenceNumber / ENET_PEER_RELIABLE_WINDOW_SIZE;

    if (startSequenceNumber < channel -> incomingReliableSequenceNumber)
      startWindow += ENET_PEER_RELIABLE_WINDOWS;

    if (startWindow < currentWindow || startWindow >= currentWindow + ENET_PEER_FREE_RELIABLE_WINDOWS - 1)
      return 0;

    fragmentNumber = ENET_NET_TO_HOST_32 (command -> sendFragment.fragmentNumber);
    fragmentCount = ENET_NET_TO_HOST_32 (command -> sendFragment.fragmentCount);
    fragmentOffset = ENET_NET_TO_HOST_32 (command -> sendFragment.fragmentOffset);
    totalLength = ENET_NET_TO_HOST_32 (command -> sendFragment.totalLength);
    
    if (fragmentCount > ENET_PROTOCOL_MAXIMUM_FRAGMENT_COUNT ||
        fragmentNumber >= fragmentCount ||
        totalLength > host -> maximumPacketSize ||
        totalLength < fragmentCount ||
        fragmentOffset >= totalLength ||
        fragmentLength > totalLength - fragmentOffset)
      return -1;
 
    startCommand = enet_peer_find_incoming_reliable_command (channel, startSequenceNumber);
    if (startCommand != NULL &&
        ((startCommand -> command.header.command & ENET_PROTOCOL_COMMAND_MASK) != ENET_PROTOCOL_COMMAND_SEND_FRAGMENT ||
         totalLength != startCommand -> packet -> dataLength ||
         fragmentCount != startCommand -> fragmentCount))
      return -1;

    if (! enet_protocol_fragment_fits (startCommand != NULL ? & startCommand -> command : command, fragmentNumber, fragmentOffset, fragmentLength))
      return -1;
 
    if (startCommand == NULL)
    {
       ENetProtocol hostCommand = * command;

       hostCommand.header.reliableSequenceNumber = startSequenceNumber;

       startCommand = enet_peer_queue_incoming_command (peer, & hostCommand, NULL, totalLength, ENET_PACKET_FLAG_RELIABLE, fragmentCount);
       if (startCommand == NULL)
         return -1;
    }
    
    if ((startCommand -> fragments [fragmentNumber / 32] & (1u << (fragmentNumber % 32))) == 0)
    {
       -- startCommand -> fragmentsRemaining;

       startCommand -> fragments [fragmentNumber / 32] |= (1u << (fragmentNumber % 32));

       if (fragmentOffset + fragmentLength > startCommand -> packet -> dataLength)
         fragmentLength = startCommand -> packet -> dataLength - fragmentOffset;

       memcpy (startCommand -> packet -> data + fragmentOffset,
               (enet_uint8 *) command + sizeof (ENetProtocolSendFragment),
               fragmentLength);

        if (startCommand -> fragmentsRemaining <= 0)
          enet_peer_dispatch_incoming_reliable_commands (peer, channel, NULL);
    }

    return 0;
}

static int
enet_protocol_handle_send_unreliable_fragment (ENetHost * host, ENetPeer * peer, const ENetProtocol * command, enet_uint8 ** currentData)
{
    enet_uint32 fragmentNumber,
           fragmentCount,
           fragmentOffset,
           fragmentLength,
           reliableSequenceNumber,
           startSequenceNumber,
           totalLength;
    enet_uint16 reliableWindow, currentWindow;
    ENetChannel * channel;
    ENetListIterator currentCommand;
    size_t reordered;
    ENetIncomingCommand * startCommand = NULL;

    if (command -> header.channelID >= peer -> channelCount ||
        (peer -> state != ENET_PEER_STATE_CONNECTED && peer -> state != ENET_PEER_STATE_DISCONNECT_LATER))
      return -1;

    fragmentLength = ENET_NET_TO_HOST_16 (command -> sendFragment.dataLength);
    if (fragmentLength <= 0 ||
        fragmentLength > host -> maximumPacketSize ||
        * currentData < host -> receivedData ||
        fragmentLength > (size_t) (& host -> receivedData [host -> receivedDataLength] - * currentData))
      return -1;

    * currentData += fragmentLength;

    channel = & peer -> channels [command -> header.channelID];
    reliableSequenceNumber = command -> header.reliableSequenceNumber;
    startSequenceNumber = ENET_NET_TO_HOST_16 (command -> sendFragment.startSequenceNumber);

    reliableWindow = reliableSequenceNumber / ENET_PEER_RELIABLE_WINDOW_SIZE;
    currentWindow = channel -> incomingReliableSequenceNumber / ENET_PEER_RELIABLE_WINDOW_SIZE;

    if (reliableSequenceNumber < channel -> incomingReliableSequenceNumber)
      reliableWindow += ENET_PEER_RELIABLE_WINDOWS;

    if (reliableWindow < currentWindow || reliableWindow >= currentWindow + ENET_PEER_FREE_RELIABLE_WINDOWS - 1)
      return 0;

    if (reliableSequenceNumber == channel -> incomingReliableSequenceNumber &&
        startSequenceNumber <= channel -> incomingUnreliableSequenceNumber)
      return 0;

    fragmentNumber = ENET_NET_TO_HOST_32 (command -> sendFragment.fragmentNumber);
    fragmentCount = ENET_NET_TO_HOST_32 (command -> sendFragment.fragmentCount);
    fragmentOffset = ENET_NET_TO_HOST_32 (command -> sendFragment.fragmentOffset);
    totalLength = ENET_NET_TO_HOST_32 (command -> sendFragment.totalLength);

    if (fragmentCount > ENET_PROTOCOL_MAXIMUM_FRAGMENT_COUNT ||
        fragmentNumber >= fragmentCount ||
        totalLength > host -> maximumPacketSize ||
        totalLength < fragmentCount ||
        fragmentOffset >= totalLength ||
        fragmentLength > totalLength - fragmentOffset)
      return -1;

    for (currentCommand = enet_list_previous (enet_list_end (& channel -> incomingUnreliableCommands)), reordered = 0;
         currentCommand != enet_list_end (& channel -> incomingUnreliableCommands);
         currentCommand = enet_list_previous (currentCommand))
    {
       ENetIncomingCommand * incomingCommand = (ENetIncomingCommand *) currentCommand;

       /* As in enet_peer_queue_incoming_command: a fragment whose packet would sort before more
          held commands than that is dropped (unreliable), not walked to. */
       if (++ reordered > ENET_PEER_UNRELIABLE_REORDER_LIMIT)
         return 0;

       if (reliableSequenceNumber >= channel -> incomingReliableSequenceNumber)
       {
          if (incomingCommand -> reliableSequenceNumber < channel -> incomingReliableSequenceNumber)
            continue;
       }
       else
       if (incomingCommand -> reliableSequenceNumber >= channel -> incomingReliableSequenceNumber)
         break;

       if (incomingCommand -> reliableSequenceNumber < reliableSequenceNumber)
         break;

       if (incomingCommand -> reliableSequenceNumber > reliableSequenceNumber)
         continue;

       if (incomingCommand -> unreliableSequenceNumber <= startSequenceNumber)
       {
          if (incomingCommand -> unreliableSequenceNumber < startSequenceNumber)
            break;

          if ((incomingCommand -> command.header.command & ENET_PROTOCOL_COMMAND_MASK) != ENET_PROTOCOL_COMMAND_SEND_UNRELIABLE_FRAGMENT ||
              totalLength != incomingCommand -> packet -> dataLength ||
              fragmentCount != incomingCommand -> fragmentCount)
            return -1;

          startCommand = incomingCommand;
          break;
       }
    }

    if (! enet_protocol_fragment_fits (startCommand != NULL ? & startCommand -> command : command, fragmentNumber, fragmentOffset, fragmentLength))
      return -1;

    if (startCommand == NULL)
    {
       startCommand = enet_peer_queue_incoming_command (peer, command, NULL, totalLength, ENET_PACKET_FLAG_UNRELIABLE_FRAGMENT, fragmentCount);
       if (startCommand == NULL)
         return -1;
    }

    if ((startCommand -> fragments [fragmentNumber / 32] & (1u << (fragmentNumber % 32))) == 0)
    {
       -- startCommand -> fragmentsRemaining;

       startCommand -> fragments [fragmentNumber / 32] |= (1u << (fragmentNumber % 32));

       if (fragmentOffset + fragmentLength > startCommand -> packet -> dataLength)
         fragmentLength = startCommand -> packet -> dataLength - fragmentOffset;

       memcpy (startCommand -> packet -> data + fragmentOffset,
               (enet_uint8 *) command + sizeof (ENetProtocolSendFragment),
               fragmentLength);

        if (startCommand -> fragmentsRemaining <= 0)
          enet_peer_dispatch_incoming_unreliable_commands (peer, channel, NULL);
    }

    return 0;
}

static int
enet_protocol_handle_ping (ENetHost * host, ENetPeer * peer, const ENetProtocol * command)
{
    if (peer -> state != ENET_PEER_STATE_CONNECTED && peer -> state != ENET_PEER_STATE_DISCONNECT_LATER)
      return -1;

    return 0;
}

static int
enet_protocol_handle_bandwidth_limit (ENetHost * host, ENetPeer * peer, const ENetProtocol * command)
{
    if (peer -> state != ENET_PEER_STATE_CONNECTED && peer -> state != ENET_PEER_STATE_DISCONNECT_LATER)
      return -1;

    if (peer -> incomingBandwidth != 0)
      -- host -> bandwidthLimitedPeers;

    peer -> incomingBandwidth = ENET_NET_TO_HOST_32 (command -> bandwidthLimit.incomingBandwidth);
    peer -> outgoingBandwidth = ENET_NET_TO_HOST_32 (command -> bandwidthLimit.outgoingBandwidth);

    if (peer -> incomingBandwidth != 0)
      ++ host -> bandwidthLimitedPeers;

    if (peer -> incomingBandwidth == 0 && host -> outgoingBandwidth == 0)
      peer -> windowSize = ENET_PROTOCOL_MAXIMUM_WINDOW_SIZE;
    else
    if (peer -> incomingBandwidth == 0 || host -> outgoingBandwidth == 0)
      peer -> windowSize = (ENET_MAX (peer -> incomingBandwidth, host -> outgoingBandwidth) /
                             ENET_PEER_WINDOW_SIZE_SCALE) * ENET_PROTOCOL_MINIMUM_WINDOW_SIZE;
    else
      peer -> windowSize = (ENET_MIN (peer -> incomingBandwidth, host -> outgoingBandwidth) /
                             ENET_PEER_WINDOW_SIZE_SCALE) * ENET_PROTOCOL_MINIMUM_WINDOW_SIZE;

    if (peer -> windowSize < ENET_PROTOCOL_MINIMUM_WINDOW_SIZE)
      peer -> windowSize = ENET_PROTOCOL_MINIMUM_WINDOW_SIZE;
    else
    if (peer -> windowSize > ENET_PROTOCOL_MAXIMUM_WINDOW_SIZE)
      peer -> windowSize = ENET_PROTOCOL_MAXIMUM_WINDOW_SIZE;

    return 0;
}

static int
enet_protocol_handle_throttle_configure (ENetHost * host, ENetPeer * peer, const ENetProtocol * command)
{
    if (peer -> state != ENET_PEER_STATE_CONNECTED && peer -> state != ENET_PEER_STATE_DISCONNECT_LATER)
      return -1;

    peer -> packetThrottleInterval = ENET_NET_TO_HOST_32 (command -> throttleConfigure.packetThrottleInterval);
    peer -> packetThrottleAcceleration = ENET_NET_TO_HOST_32 (command -> throttleConfigure.packetThrottleAcceleration);
    peer -> packetThrottleDeceleration = ENET_NET_TO_HOST_32 (command -> throttleConfigure.packetThrottleDeceleration);

    return 0;
}

static int
enet_protocol_handle_disconnect (ENetHost * host, ENetPeer * peer, const ENetProtocol * command)
{
    ENetList dispatched;

    if (peer -> state == ENET_PEER_STATE_DISCONNECTED || peer -> state == ENET_PEER_STATE_ZOMBIE || peer -> state == ENET_PEER_STATE_ACKNOWLEDGING_DISCONNECT)
      return 0;

    /* Local patch 0039: messages that arrived whole and were acknowledged, but that the
       application has not taken yet, stay for it (still counted as held), and are dispatched
       before the disconnect. Stock ENet drops them here, which a host serviced only by the
       application never shows (it receives only once every event is taken), but a host
       serviced by another thread while the application is busy does. */
    enet_list_clear (& dispatched);
    if (! enet_list_empty (& peer -> dispatchedCommands))
      enet_list_move (enet_list_end (& dispatched), enet_list_begin (& peer -> dispatchedCommands), enet_list_previous (enet_list_end (& peer -> dispatchedCommands)));

    enet_peer_reset_queues (peer);

    if (! enet_list_empty (& dispatched))
      enet_list_move (enet_list_end (& peer -> dispatchedCommands), enet_list_begin (& dispatched), enet_list_previous (enet_list_end (& dispatched)));

    peer -> disconnectReason = peer -> state == ENET_PEER_STATE_CONNECTING ? ENET_DISCONNECT_REASON_REFUSED : ENET_DISCONNECT_REASON_REMOTE;

    if (peer -> state == ENET_PEER_STATE_CONNECTION_SUCCEEDED || peer -> state == ENET_PEER_STATE_DISCONNECTING || peer -> state == ENET_PEER_STATE_CONNECTING)
        enet_protocol_dispatch_state (host, peer, ENET_PEER_STATE_ZOMBIE);
    else
    if (peer -> state != ENET_PEER_STATE_CONNECTED && peer -> state != ENET_PEER_STATE_DISCONNECT_LATER)
    {
        if (peer -> state == ENET_PEER_STATE_CONNECTION_PENDING) host -> recalculateBandwidthLimits = 1;

        enet_peer_reset (peer);
    }
    else
    if (command -> header.command & ENET_PROTOCOL_COMMAND_FLAG_ACKNOWLEDGE)
      enet_protocol_change_state (host, peer, ENET_PEER_STATE_ACKNOWLEDGING_DISCONNECT);
    else
      enet_protocol_dispatch_state (host, peer, ENET_PEER_STATE_ZOMBIE);

    if (peer -> state != ENET_PEER_STATE_DISCONNECTED)
      peer -> eventData = ENET_NET_TO_HOST_32 (command -> disconnect.data);

    return 0;
}

static int
enet_protocol_handle_acknowledge (ENetHost * host, ENetEvent * event, ENetPeer * peer, const ENetProtocol * command)
{
    enet_uint32 receivedSentTime,
           receivedReliableSequenceNumber;
    ENetProtocolCommand commandNumber;

    /* A connection attempt is answered by VERIFY_CONNECT, which acknowledges the CONNECT; a
       stock peer never acknowledges a CONNECT otherwise. Taking such an acknowledgement would
       leave nothing in flight, and so no timeout: the attempt would never end. */
    if (peer -> state == ENET_PEER_STATE_DISCONNECTED || peer -> state == ENET_PEER_STATE_ZOMBIE ||
        peer -> state == ENET_PEER_STATE_CONNECTING)
      return 0;

    receivedSentTime = ENET_NET_TO_HOST_16 (command -> acknowledge.receivedSentTime);
    receivedSentTime |= host -> serviceTime & 0xFFFF0000;
    if ((receivedSentTime & 0x8000) > (host -> serviceTime & 0x8000))
        receivedSentTime -= 0x10000;

    if (ENET_TIME_LESS (host -> serviceTime, receivedSentTime))
      return 0;

    receivedReliableSequenceNumber = ENET_NET_TO_HOST_16 (command -> acknowledge.receivedReliableSequenceNumber);

    /* Only an acknowledgement of something in flight says the peer is alive and how long a round
       trip takes: one that matches nothing (a duplicate, or a forgery with a plausible time)
       must not reset the timeout, or a peer that acknowledges nothing real never times out. */
    if (enet_peer_find_sent_reliable_command (peer, receivedReliableSequenceNumber, command -> header.channelID) == NULL)
      return peer -> state == ENET_PEER_STATE_ACKNOWLEDGING_CONNECT || peer -> state == ENET_PEER_STATE_DISCONNECTING ? -1 : 0;

    enet_protocol_update_round_trip_time (host, peer, ENET_TIME_DIFFERENCE (host -> serviceTime, receivedSentTime));

    peer -> lastReceiveTime = ENET_MAX (host -> serviceTime, 1);
    peer -> earliestTimeout = 0;

    commandNumber = enet_protocol_remove_sent_reliable_command (peer, receivedReliableSequenceNumber, command -> header.channelID);

    switch (peer -> state)
    {
    case ENET_PEER_STATE_ACKNOWLEDGING_CONNECT:
       if (commandNumber != ENET_PROTOCOL_COMMAND_VERIFY_CONNECT)
         return -1;

       enet_protocol_notify_connect (host, peer, event);
       break;

    case ENET_PEER_STATE_DISCONNECTING:
       if (commandNumber != ENET_PROTOCOL_COMMAND_DISCONNECT)
         return -1;

       enet_protocol_notify_disconnect (host, peer, event, ENET_DISCONNECT_REASON_LOCAL);
       break;

    case ENET_PEER_STATE_DISCONNECT_LATER:
       if (! enet_peer_has_outgoing_commands (peer))
         enet_peer_disconnect (peer, peer -> eventData);
       break;

    default:
       break;
    }
   
    return 0;
}

static int
enet_protocol_handle_verify_connect (ENetHost * host, ENetEvent * event, ENetPeer * peer, const ENetProtocol * command)
{
    enet_uint32 mtu, windowSize;
    size_t channelCount;

    if (peer -> state != ENET_PEER_STATE_CONNECTING)
      return 0;

    channelCount = ENET_NET_TO_HOST_32 (command -> verifyConnect.channelCount);

    if (channelCount < ENET_PROTOCOL_MINIMUM_CHANNEL_COUNT || channelCount > ENET_PROTOCOL_MAXIMUM_CHANNEL_COUNT ||
        ENET_NET_TO_HOST_32 (command -> verifyConnect.packetThrottleInterval) != peer -> packetThrottleInterval ||
        ENET_NET_TO_HOST_32 (command -> verifyConnect.packetThrottleAcceleration) != peer -> packetThrottleAcceleration ||
        ENET_NET_TO_HOST_32 (command -> verifyConnect.packetThrottleDeceleration) != peer -> packetThrottleDeceleration ||
        command -> verifyConnect.connectID != peer -> connectID)
    {
        peer -> eventData = 0;
        peer -> disconnectReason = ENET_DISCONNECT_REASON_REFUSED;

        enet_protocol_dispatch_state (host, peer, ENET_PEER_STATE_ZOMBIE);

        return -1;
    }

    enet_protocol_remove_sent_reliable_command (peer, 1, 0xFF);
    
    if (channelCount < peer -> channelCount)
      peer -> channelCount = channelCount;

    peer -> outgoingPeerID = ENET_NET_TO_HOST_16 (command -> verifyConnect.outgoingPeerID);
    peer -> incomingSessionID = command -> verifyConnect.incomingSessionID;
    peer -> outgoingSessionID = command -> verifyConnect.outgoingSessionID;

    mtu = ENET_NET_TO_HOST_32 (command -> verifyConnect.mtu);

    if (mtu < ENET_PROTOCOL_MINIMUM_MTU)
      mtu = ENET_PROTOCOL_MINIMUM_MTU;
    else 
    if (mtu > ENET_PROTOCOL_MAXIMUM_MTU)
      mtu = ENET_PROTOCOL_MAXIMUM_MTU;

    if (mtu < peer -> mtu)
      peer -> mtu = mtu;

    windowSize = ENET_NET_TO_HOST_32 (command -> verifyConnect.windowSize);

    if (windowSize < ENET_PROTOCOL_MINIMUM_WINDOW_SIZE)
      windowSize = ENET_PROTOCOL_MINIMUM_WINDOW_SIZE;

    if (windowSize > ENET_PROTOCOL_MAXIMUM_WINDOW_SIZE)
      windowSize = ENET_PROTOCOL_MAXIMUM_WINDOW_SIZE;

    if (windowSize < peer -> windowSize)
      peer -> windowSize = windowSize;

    peer -> incomingBandwidth = ENET_NET_TO_HOST_32 (command -> verifyConnect.incomingBandwidth);
    peer -> outgoingBandwidth = ENET_NET_TO_HOST_32 (command -> verifyConnect.outgoingBandwidth);

    enet_protocol_notify_connect (host, peer, event);
    return 0;
}

/* Whether the received datagram answers a connecting peer's CONNECT: its first command after
   any acknowledgements is a whole VERIFY_CONNECT carrying the peer's connect ID, which only
   those who saw the CONNECT know (local patch 0035). */
static int
enet_protocol_answers_connect (ENetHost * host, const ENetPeer * peer, size_t headerSize)
{
    const enet_uint8 * currentData = host -> receivedData + headerSize,
                     * end = & host -> receivedData [host -> receivedDataLength];

    if (peer -> state != ENET_PEER_STATE_CONNECTING)
      return 0;

    while (currentData + sizeof (ENetProtocolCommandHeader) <= end)
    {
       const ENetProtocol * command = (const ENetProtocol *) currentData;
       enet_uint8 commandNumber = command -> header.command & ENET_PROTOCOL_COMMAND_MASK;

       if (commandNumber != ENET_PROTOCOL_COMMAND_ACKNOWLEDGE)
         return commandNumber == ENET_PROTOCOL_COMMAND_VERIFY_CONNECT &&
                currentData + sizeof (ENetProtocolVerifyConnect) <= end &&
                command -> verifyConnect.connectID == peer -> connectID;
       currentData += sizeof (ENetProtocolAcknowledge);
    }
    return 0;
}

/* Local patch 0042: whether the acknowledgement of a DISCONNECT is queued for the peer. */
static int
enet_protocol_disconnect_acknowledgement_queued (ENetPeer * peer)
{
    ENetListIterator current;

    for (current = enet_list_begin (& peer -> acknowledgements);
         current != enet_list_end (& peer -> acknowledgements);
         current = enet_list_next (current))
    {
       ENetAcknowledgement * acknowledgement = (ENetAcknowledgement *) current;

       if ((acknowledgement -> command.header.command & ENET_PROTOCOL_COMMAND_MASK) == ENET_PROTOCOL_COMMAND_DISCONNECT)
         return 1;
    }

    return 0;
}

static int
enet_protocol_handle_incoming_commands (ENetHost * host, ENetEvent * event)
{
    ENetProtocolHeader * header;
    ENetProtocol * command;
    ENetPeer * peer;
    enet_uint8 * currentData;
    size_t headerSize;
    enet_uint16 peerID, flags;
    enet_uint8 sessionID;
    ENetConnectRecord * record = NULL;

    if (host -> receivedDataLength < ENET_OFFSETOF(ENetProtocolHeader, sentTime))
      return 0;

    host -> receivedWireLength = host -> receivedDataLength;

    header = (ENetProtocolHeader *) host -> receivedData;

    peerID = ENET_NET_TO_HOST_16 (header -> peerID);
    sessionID = (peerID & ENET_PROTOCOL_HEADER_SESSION_MASK) >> ENET_PROTOCOL_HEADER_SESSION_SHIFT;
    flags = peerID & ENET_PROTOCOL_HEADER_FLAG_MASK;
    peerID &= ~ (ENET_PROTOCOL_HEADER_FLAG_MASK | ENET_PROTOCOL_HEADER_SESSION_MASK);

    headerSize = (flags & ENET_PROTOCOL_HEADER_FLAG_SENT_TIME ? sizeof (ENetProtocolHeader) : ENET_OFFSETOF(ENetProtocolHeader, sentTime));
    if (host -> checksum != NULL)
      headerSize += sizeof (enet_uint32);

    if (headerSize > host -> receivedDataLength)
      return 0;

    if (peerID == ENET_PROTOCOL_MAXIMUM_PEER_ID)
      peer = NULL;
    else
    if (peerID >= host -> peerCount)
      return 0;
    else
    {
       peer = & host -> peers [peerID];

       /* A peer connecting to a broadcast address takes datagrams from anyone, but not those
          of a record's client or an aliased peer's, whose id this also is (local patch 0033). */
       if (peer -> state == ENET_PEER_STATE_DISCONNECTED ||
           peer -> state == ENET_PEER_STATE_ZOMBIE ||
           (peer -> flags & ENET_PEER_FLAG_ALIASED) ||
           ((memcmp (host -> receivedAddress.host, peer -> address.host, sizeof (peer -> address.host)) ||
             host -> receivedAddress.port != peer -> address.port) &&
            (memcmp (peer -> address.host, broadcastHost, sizeof (broadcastHost)) ||
             enet_protocol_find_connect_record (host, 0, 0, peerID, sessionID) != NULL ||
             enet_protocol_find_alias (host, peerID, sessionID) != NULL)) ||
           (peer -> outgoingPeerID < ENET_PROTOCOL_MAXIMUM_PEER_ID &&
            sessionID != peer -> incomingSessionID))
       {
          /* Not this slot's peer (an aliased one is never addressed by its own slot's id): it
             may be the client of a record that offered the slot, or one that took another slot
             since (local patch 0024). */
          record = enet_protocol_find_connect_record (host, 0, 0, peerID, sessionID);
          if (record == NULL)
          {
             peer = enet_protocol_find_alias (host, peerID, sessionID);
             if (peer == NULL)
               return 0;
          }
       }
    }
 
    if (flags & ENET_PROTOCOL_HEADER_FLAG_COMPRESSED)
    {
        size_t originalSize;
        if (host -> compressor.context == NULL || host -> compressor.decompress == NULL)
          return 0;

        originalSize = host -> compressor.decompress (host -> compressor.context,
                                    host -> receivedData + headerSize, 
                                    host -> receivedDataLength - headerSize, 
                                    host -> packetData [1] + headerSize, 
                                    sizeof (host -> packetData [1]) - headerSize);
        if (originalSize <= 0 || originalSize > sizeof (host -> packetData [1]) - headerSize)
          return 0;

        memcpy (host -> packetData [1], header, headerSize);
        host -> receivedData = host -> packetData [1];
        host -> receivedDataLength = headerSize + originalSize;
    }

    if (host -> checksum != NULL)
    {
        enet_uint8 * checksum = & host -> receivedData [headerSize - sizeof (enet_uint32)];
        enet_uint32 desiredChecksum, newChecksum;
        ENetBuffer buffer;
        /* Checksum may be an unaligned pointer, use memcpy to avoid undefined behaviour. */
        memcpy (& desiredChecksum, checksum, sizeof (enet_uint32));

        newChecksum = record != NULL ? record -> handshake.verify.connectID : (peer != NULL ? peer -> connectID : 0);
        memcpy (checksum, & newChecksum, sizeof (enet_uint32));

        buffer.data = host -> receivedData;
        buffer.dataLength = host -> receivedDataLength;

        if (host -> checksum (& buffer, 1) != desiredChecksum)
          return 0;
    }
       
    /* A datagram from the client of an unverified handshake (local patches) goes no further
       unless it completes the handshake. */
    if (record != NULL)
    {
       if (enet_protocol_handshake_expired (host, & record -> handshake))
       {
          ++ host -> connectRecordsExpired;
          enet_protocol_end_connect_record (host, record, 0);
          return 0;
       }

       switch (enet_protocol_handshake_datagram (host, & record -> address, & record -> handshake, headerSize))
       {
       case ENET_HANDSHAKE_DONE:
          peer = enet_protocol_accept_connect_record (host, event, record);
          if (peer == NULL)
            return 0;
          break;

       case ENET_HANDSHAKE_WAIT:
          return 0;

       case ENET_HANDSHAKE_LEFT:
          enet_protocol_release_connect_record (host, record);
          record -> handshake.startTime = 0;
          return 0;

       default:
          enet_protocol_end_connect_record (host, record, 1);
          return 0;
       }
    }
    else
    if (peer != NULL && enet_protocol_peer_unverified (peer))
    {
       switch (enet_protocol_handshake_datagram (host, & peer -> address, & peer -> handshake, headerSize))
       {
       case ENET_HANDSHAKE_DONE:
          if (enet_protocol_source_full (host, & peer -> address, peer))
          {
             ++ host -> connectsDropped;
             enet_protocol_end_unverified_peer (host, peer, 1);
             return 0;
          }
          enet_protocol_complete_handshake (host, event, peer, & peer -> handshake);
          break;

       case ENET_HANDSHAKE_WAIT:
          return 0;

       case ENET_HANDSHAKE_LEFT:
          enet_peer_reset (peer);
          return 0;

       default:
          enet_protocol_end_unverified_peer (host, peer, 1);
          return 0;
       }
    }

    if (peer != NULL)
    {
       /* Only a peer connecting to a broadcast address hears from another one; the host's index of
          peers by address follows it (local patch 0024). It takes that address only from the
          VERIFY_CONNECT that answers its CONNECT (local patch 0035): from any datagram, a forged
          one would have it retransmit its CONNECT to a victim, with no credit. */
       if (peer -> address.port != host -> receivedAddress.port ||
           memcmp (peer -> address.host, host -> receivedAddress.host, sizeof (peer -> address.host)))
       {
          if (! enet_protocol_answers_connect (host, peer, headerSize))
            return 0;
          peer -> address = host -> receivedAddress;
          enet_host_index_peer (host, peer);
       }
       peer -> incomingDataTotal += host -> receivedDataLength;
    }

    host -> receivedAddressWaitingData = (size_t) -1;
    
    currentData = host -> receivedData + headerSize;
  
    while (currentData < & host -> receivedData [host -> receivedDataLength])
    {
       enet_uint8 commandNumber;
       size_t commandSize;

       command = (ENetProtocol *) currentData;

       if (currentData + sizeof (ENetProtocolCommandHeader) > & host -> receivedData [host -> receivedDataLength])
         break;

       commandNumber = command -> header.command & ENET_PROTOCOL_COMMAND_MASK;
       if (commandNumber >= ENET_PROTOCOL_COMMAND_COUNT) 
         break;
       
       commandSize = commandSizes [commandNumber];
       if (commandSize == 0 || currentData + commandSize > & host -> receivedData [host -> receivedDataLength])
         break;

       currentData += commandSize;

       if (peer == NULL && commandNumber != ENET_PROTOCOL_COMMAND_CONNECT)
         break;
         
       command -> header.reliableSequenceNumber = ENET_NET_TO_HOST_16 (command -> header.reliableSequenceNumber);

       switch (commandNumber)
       {
       case ENET_PROTOCOL_COMMAND_ACKNOWLEDGE:
          if (enet_protocol_handle_acknowledge (host, event, peer, command))
            goto commandError;
          break;

       case ENET_PROTOCOL_COMMAND_CONNECT:
          if (peer != NULL)
            goto commandError;
          peer = enet_protocol_handle_connect (host, header, command);
          if (peer == NULL)
            goto commandError;
          break;

       case ENET_PROTOCOL_COMMAND_VERIFY_CONNECT:
          if (enet_protocol_handle_verify_connect (host, event, peer, command))
            goto commandError;
          break;

       case ENET_PROTOCOL_COMMAND_DISCONNECT:
          if (enet_protocol_handle_disconnect (host, peer, command))
            goto commandError;
          break;

       case ENET_PROTOCOL_COMMAND_PING:
          if (enet_protocol_handle_ping (host, peer, command))
            goto commandError;
          break;

       case ENET_PROTOCOL_COMMAND_SEND_RELIABLE:
          if (enet_protocol_handle_send_reliable (host, peer, command, & currentData))
            goto commandError;
          break;

       case ENET_PROTOCOL_COMMAND_SEND_UNRELIABLE:
          if (enet_protocol_handle_send_unreliable (host, peer, command, & currentData))
            goto commandError;
          break;

       case ENET_PROTOCOL_COMMAND_SEND_UNSEQUENCED:
          if (enet_protocol_handle_send_unsequenced (host, peer, command, & currentData))
            goto commandError;
          break;

       case ENET_PROTOCOL_COMMAND_SEND_FRAGMENT:
          if (enet_protocol_handle_send_fragment (host, peer, command, & currentData))
            goto commandError;
          break;

       case ENET_PROTOCOL_COMMAND_BANDWIDTH_LIMIT:
          if (enet_protocol_handle_bandwidth_limit (host, peer, command))
            goto commandError;
          break;

       case ENET_PROTOCOL_COMMAND_THROTTLE_CONFIGURE:
          if (enet_protocol_handle_throttle_configure (host, peer, command))
            goto commandError;
          break;

       case ENET_PROTOCOL_COMMAND_SEND_UNRELIABLE_FRAGMENT:
          if (enet_protocol_handle_send_unreliable_fragment (host, peer, command, & currentData))
            goto commandError;
          break;

       default:
          goto commandError;
       }

       if (peer != NULL &&
           (command -> header.command & ENET_PROTOCOL_COMMAND_FLAG_ACKNOWLEDGE) != 0)
       {
           enet_uint16 sentTime;

           if (! (flags & ENET_PROTOCOL_HEADER_FLAG_SENT_TIME))
             break;

           sentTime = ENET_NET_TO_HOST_16 (header -> sentTime);

           switch (peer -> state)
           {
           case ENET_PEER_STATE_DISCONNECTING:
           case ENET_PEER_STATE_ACKNOWLEDGING_CONNECT:
           case ENET_PEER_STATE_DISCONNECTED:
           case ENET_PEER_STATE_ZOMBIE:
              break;

           case ENET_PEER_STATE_ACKNOWLEDGING_DISCONNECT:
              if ((command -> header.command & ENET_PROTOCOL_COMMAND_MASK) == ENET_PROTOCOL_COMMAND_DISCONNECT)
                enet_peer_queue_acknowledgement (peer, command, sentTime);
              break;

           default:   
              enet_peer_queue_acknowledgement (peer, command, sentTime);        
              break;
           }
       }
    }

commandError:
    /* Local patch 0042: a DISCONNECT that asked for an acknowledgement made the peer
       ACKNOWLEDGING_DISCONNECT, and only the sending of that acknowledgement makes it a
       zombie. When none was queued (the datagram had no sent time, or there was no memory for
       it), nothing else ever would: nothing is in flight and only connected peers are pinged,
       so the slot stayed taken for good, without an event. It is a zombie now. */
    if (peer != NULL && peer -> state == ENET_PEER_STATE_ACKNOWLEDGING_DISCONNECT &&
        ! enet_protocol_disconnect_acknowledgement_queued (peer))
      enet_protocol_dispatch_state (host, peer, ENET_PEER_STATE_ZOMBIE);

    if (event != NULL && event -> type != ENET_EVENT_TYPE_NONE)
      return 1;

    return 0;
}
 
static int
enet_protocol_receive_incoming_commands (ENetHost * host, ENetEvent * event)
{
    int packets;

    for (packets = 0; packets < 256; ++ packets)
    {
       int receivedLength;
       ENetBuffer buffer;

       buffer.data = host -> packetData [0];
       buffer.dataLength = sizeof (host -> packetData [0]);

       receivedLength = enet_socket_receive (host -> socket,
                                             & host -> receivedAddress,
                                             & buffer,
                                             1);

       if (receivedLength == -2)
         continue;

       if (receivedLength < 0)
         return -1;

       if (receivedLength == 0)
         return 0;

       host -> receivedData = host -> packetData [0];
       host -> receivedDataLength = receivedLength;
      
       host -> totalReceivedData += receivedLength;
       host -> totalReceivedPackets ++;

       if (host -> intercept != NULL)
       {
          switch (host -> intercept (host, event))
          {
          case 1:
             if (event != NULL && event -> type != ENET_EVENT_TYPE_NONE)
               return 1;

             continue;
          
          case -1:
             return -1;
        
          default:
             break;
          }
       }
        
       switch (enet_protocol_handle_incoming_commands (host, event))
       {
       case 1:
          return 1;
       
       case -1:
          return -1;

       default:
          break;
       }
    }

    return 0;
}

static void
enet_protocol_send_acknowledgements (ENetHost * host, ENetPeer * peer)
{
    ENetProtocol * command = & host -> commands [host -> commandCount];
    ENetBuffer * buffer = & host -> buffers [host -> bufferCount];
    ENetAcknowledgement * acknowledgement;
    ENetListIterator currentAcknowledgement;
    enet_uint16 reliableSequenceNumber;
 
    currentAcknowledgement = enet_list_begin (& peer -> acknowledgements);
         
    while (currentAcknowledgement != enet_list_end (& peer -> acknowledgements))
    {
       if (command >= & host -> commands [sizeof (host -> commands) / sizeof (ENetProtocol)] ||
           buffer >= & host -> buffers [sizeof (host -> buffers) / sizeof (ENetBuffer)] ||
           peer -> mtu - host -> packetSize < sizeof (ENetProtocolAcknowledge))
       {
          peer -> flags |= ENET_PEER_FLAG_CONTINUE_SENDING;

          break;
       }

       acknowledgement = (ENetAcknowledgement *) currentAcknowledgement;
 
       currentAcknowledgement = enet_list_next (currentAcknowledgement);

       buffer -> data = command;
       buffer -> dataLength = sizeof (ENetProtocolAcknowledge);

       host -> packetSize += buffer -> dataLength;

       reliableSequenceNumber = ENET_HOST_TO_NET_16 (acknowledgement -> command.header.reliableSequenceNumber);
  
       command -> header.command = ENET_PROTOCOL_COMMAND_ACKNOWLEDGE;
       command -> header.channelID = acknowledgement -> command.header.channelID;
       command -> header.reliableSequenceNumber = reliableSequenceNumber;
       command -> acknowledge.receivedReliableSequenceNumber = reliableSequenceNumber;
       command -> acknowledge.receivedSentTime = ENET_HOST_TO_NET_16 (acknowledgement -> sentTime);
  
       if ((acknowledgement -> command.header.command & ENET_PROTOCOL_COMMAND_MASK) == ENET_PROTOCOL_COMMAND_DISCONNECT)
         enet_protocol_dispatch_state (host, peer, ENET_PEER_STATE_ZOMBIE);

       enet_list_remove (& acknowledgement -> acknowledgementList);
       enet_free (acknowledgement);

       ++ command;
       ++ buffer;
    }

    host -> commandCount = command - host -> commands;
    host -> bufferCount = buffer - host -> buffers;
}

static int
enet_protocol_check_timeouts (ENetHost * host, ENetPeer * peer, ENetEvent * event)
{
    ENetOutgoingCommand * outgoingCommand;
    ENetListIterator currentCommand, insertPosition, insertSendReliablePosition;

    currentCommand = enet_list_begin (& peer -> sentReliableCommands);
    insertPosition = enet_list_begin (& peer -> outgoingCommands);
    insertSendReliablePosition = enet_list_begin (& peer -> outgoingSendReliableCommands);

    while (currentCommand != enet_list_end (& peer -> sentReliableCommands))
    {
       outgoingCommand = (ENetOutgoingCommand *) currentCommand;

       currentCommand = enet_list_next (currentCommand);

       if (ENET_TIME_DIFFERENCE (host -> serviceTime, outgoingCommand -> sentTime) < outgoingCommand -> roundTripTimeout)
         continue;

       if (peer -> earliestTimeout == 0 ||
           ENET_TIME_LESS (outgoingCommand -> sentTime, peer -> earliestTimeout))
         peer -> earliestTimeout = outgoingCommand -> sentTime;

       /* sendAttempts is at least 1 for a command that was sent; 2 to the power of
          sendAttempts - 1 is past any 32-bit timeoutLimit once it needs more than 31 bits. */
       if (peer -> earliestTimeout != 0 &&
             (ENET_TIME_DIFFERENCE (host -> serviceTime, peer -> earliestTimeout) >= peer -> timeoutMaximum ||
               ((outgoingCommand -> sendAttempts > 32 ||
                 (1u << ((outgoingCommand -> sendAttempts - 1) & 31)) >= peer -> timeoutLimit) &&
                 ENET_TIME_DIFFERENCE (host -> serviceTime, peer -> earliestTimeout) >= peer -> timeoutMinimum)))
       {
          enet_protocol_notify_disconnect (host, peer, event, ENET_DISCONNECT_REASON_TIMEOUT);

          return 1;
       }

       ++ peer -> packetsLost;

       outgoingCommand -> inTransit = 0;

       /* Doubling must never wrap to 0, which would mean retransmitting on every service. */
       if (outgoingCommand -> roundTripTimeout < 0x80000000)
         outgoingCommand -> roundTripTimeout *= 2;

       if (outgoingCommand -> packet != NULL)
       {
         peer -> reliableDataInTransit -= outgoingCommand -> fragmentLength;

         enet_list_insert (insertSendReliablePosition, enet_list_remove (& outgoingCommand -> outgoingCommandList));
       }
       else
         enet_list_insert (insertPosition, enet_list_remove (& outgoingCommand -> outgoingCommandList));

       if (currentCommand == enet_list_begin (& peer -> sentReliableCommands) &&
           ! enet_list_empty (& peer -> sentReliableCommands))
       {
          outgoingCommand = (ENetOutgoingCommand *) currentCommand;

          peer -> nextTimeout = outgoingCommand -> sentTime + outgoingCommand -> roundTripTimeout;
       }
    }
    
    return 0;
}

static int
enet_protocol_check_outgoing_commands (ENetHost * host, ENetPeer * peer, ENetList * sentUnreliableCommands)
{
    ENetProtocol * command = & host -> commands [host -> commandCount];
    ENetBuffer * buffer = & host -> buffers [host -> bufferCount];
    ENetOutgoingCommand * outgoingCommand;
    ENetListIterator currentCommand, currentSendReliableCommand;
    ENetChannel *channel = NULL;
    enet_uint16 reliableWindow = 0;
    size_t commandSize;
    int windowWrap = 0, canPing = 1;

    currentCommand = enet_list_begin (& peer -> outgoingCommands);
    currentSendReliableCommand = enet_list_begin (& peer -> outgoingSendReliableCommands);

    for (;;)
    {
       if (currentCommand != enet_list_end (& peer -> outgoingCommands))
       {
          outgoingCommand = (ENetOutgoingCommand *) currentCommand;

          if (currentSendReliableCommand != enet_list_end (& peer -> outgoingSendReliableCommands) &&
              ENET_TIME_LESS (((ENetOutgoingCommand *) currentSendReliableCommand) -> queueTime, outgoingCommand -> queueTime))
            goto useSendReliableCommand;

          currentCommand = enet_list_next (currentCommand);
       }
       else
       if (currentSendReliableCommand != enet_list_end (& peer -> outgoingSendReliableCommands))
       {
       useSendReliableCommand:
          outgoingCommand = (ENetOutgoingCommand *) currentSendReliableCommand;
          currentSendReliableCommand = enet_list_next (currentSendReliableCommand);
       }
       else
         break;

       if (outgoingCommand -> command.header.command & ENET_PROTOCOL_COMMAND_FLAG_ACKNOWLEDGE)
       {
          channel = outgoingCommand -> command.header.channelID < peer -> channelCount ? & peer -> channels [outgoingCommand -> command.header.channelID] : NULL;
          reliableWindow = outgoingCommand -> reliableSequenceNumber / ENET_PEER_RELIABLE_WINDOW_SIZE;
          if (channel != NULL)
          {
             if (windowWrap)
               continue;
             else
             if (outgoingCommand -> sendAttempts < 1 &&
                  ! (outgoingCommand -> reliableSequenceNumber % ENET_PEER_RELIABLE_WINDOW_SIZE) &&
                  (channel -> reliableWindows [(reliableWindow + ENET_PEER_RELIABLE_WINDOWS - 1) % ENET_PEER_RELIABLE_WINDOWS] >= ENET_PEER_RELIABLE_WINDOW_SIZE ||
                    channel -> usedReliableWindows & ((((1u << (ENET_PEER_FREE_RELIABLE_WINDOWS + 2)) - 1) << reliableWindow) |
                      (((1u << (ENET_PEER_FREE_RELIABLE_WINDOWS + 2)) - 1) >> (ENET_PEER_RELIABLE_WINDOWS - reliableWindow)))))
             {
                windowWrap = 1;
                currentSendReliableCommand = enet_list_end (& peer -> outgoingSendReliableCommands);

                continue;
             }
          }

          if (outgoingCommand -> packet != NULL)
          {
             enet_uint32 windowSize = (peer -> packetThrottle * peer -> windowSize) / ENET_PEER_PACKET_THROTTLE_SCALE;

             if (peer -> reliableDataInTransit + outgoingCommand -> fragmentLength > ENET_MAX (windowSize, peer -> mtu))
             {
                currentSendReliableCommand = enet_list_end (& peer -> outgoingSendReliableCommands);

                continue;
             }
          }

          canPing = 0;
       }

       commandSize = commandSizes [outgoingCommand -> command.header.command & ENET_PROTOCOL_COMMAND_MASK];
       if (command >= & host -> commands [sizeof (host -> commands) / sizeof (ENetProtocol)] ||
           buffer + 1 >= & host -> buffers [sizeof (host -> buffers) / sizeof (ENetBuffer)] ||
           peer -> mtu - host -> packetSize < commandSize ||
           (outgoingCommand -> packet != NULL && 
             (enet_uint16) (peer -> mtu - host -> packetSize) < (enet_uint16) (commandSize + outgoingCommand -> fragmentLength)))
       {
          peer -> flags |= ENET_PEER_FLAG_CONTINUE_SENDING;

          break;
       }

       if (outgoingCommand -> command.header.command & ENET_PROTOCOL_COMMAND_FLAG_ACKNOWLEDGE)
       {
          if (outgoingCommand -> sendAttempts < 1 &&
              enet_peer_track_sent_reliable_command (peer, outgoingCommand) < 0)
          {
             currentSendReliableCommand = enet_list_end (& peer -> outgoingSendReliableCommands);

             continue;
          }

          if (channel != NULL && outgoingCommand -> sendAttempts < 1)
          {
             channel -> usedReliableWindows |= 1u << reliableWindow;
             ++ channel -> reliableWindows [reliableWindow];
          }

          ++ outgoingCommand -> sendAttempts;
 
          /* At least 1 ms, so that the doubling backoff works even when the round trip time
             and its variance are 0 (or wrap around to 0). */
          if (outgoingCommand -> roundTripTimeout == 0)
          {
             outgoingCommand -> roundTripTimeout = peer -> roundTripTime + 4 * peer -> roundTripTimeVariance;
             if (outgoingCommand -> roundTripTimeout == 0)
               outgoingCommand -> roundTripTimeout = 1;
          }

          if (enet_list_empty (& peer -> sentReliableCommands))
            peer -> nextTimeout = host -> serviceTime + outgoingCommand -> roundTripTimeout;

          enet_list_insert (enet_list_end (& peer -> sentReliableCommands),
                            enet_list_remove (& outgoingCommand -> outgoingCommandList));

          outgoingCommand -> inTransit = 1;
          outgoingCommand -> sentTime = host -> serviceTime;

          host -> headerFlags |= ENET_PROTOCOL_HEADER_FLAG_SENT_TIME;

          peer -> reliableDataInTransit += outgoingCommand -> fragmentLength;
       }
       else
       {
          if (outgoingCommand -> packet != NULL && outgoingCommand -> fragmentOffset == 0)
          {
             peer -> packetThrottleCounter += ENET_PEER_PACKET_THROTTLE_COUNTER;
             peer -> packetThrottleCounter %= ENET_PEER_PACKET_THROTTLE_SCALE;

             if (peer -> packetThrottleCounter > peer -> packetThrottle)
             {
                enet_uint16 reliableSequenceNumber = outgoingCommand -> reliableSequenceNumber,
                            unreliableSequenceNumber = outgoingCommand -> unreliableSequenceNumber;
                for (;;)
                {
                   -- outgoingCommand -> packet -> referenceCount;

                   if (outgoingCommand -> packet -> referenceCount == 0)
                     enet_packet_destroy (outgoingCommand -> packet);

                   enet_list_remove (& outgoingCommand -> outgoingCommandList);
                   enet_free (outgoingCommand);

                   if (currentCommand == enet_list_end (& peer -> outgoingCommands))
                     break;

                   outgoingCommand = (ENetOutgoingCommand *) currentCommand;
                   if (outgoingCommand -> reliableSequenceNumber != reliableSequenceNumber ||
                       outgoingCommand -> unreliableSequenceNumber != unreliableSequenceNumber)
                     break;

                   currentCommand = enet_list_next (currentCommand);
                }

                continue;
             }
          }

          enet_list_remove (& outgoingCommand -> outgoingCommandList);

          if (outgoingCommand -> packet != NULL)
            enet_list_insert (enet_list_end (sentUnreliableCommands), outgoingCommand);
       }

       buffer -> data = command;
       buffer -> dataLength = commandSize;

       host -> packetSize += buffer -> dataLength;

       * command = outgoingCommand -> command;

       if (outgoingCommand -> packet != NULL)
       {
          ++ buffer;
          
          buffer -> data = outgoingCommand -> packet -> data + outgoingCommand -> fragmentOffset;
          buffer -> dataLength = outgoingCommand -> fragmentLength;

          host -> packetSize += outgoingCommand -> fragmentLength;
       }
       else
       if (! (outgoingCommand -> command.header.command & ENET_PROTOCOL_COMMAND_FLAG_ACKNOWLEDGE))
         enet_free (outgoingCommand);

       ++ peer -> packetsSent;
        
       ++ command;
       ++ buffer;
    }

    host -> commandCount = command - host -> commands;
    host -> bufferCount = buffer - host -> buffers;

    if (peer -> state == ENET_PEER_STATE_DISCONNECT_LATER &&
        ! enet_peer_has_outgoing_commands (peer) &&
        enet_list_empty (sentUnreliableCommands))
      enet_peer_disconnect (peer, peer -> eventData);

    return canPing;
}

static int
enet_protocol_send_outgoing_commands (ENetHost * host, ENetEvent * event, int checkForTimeouts)
{
    enet_uint8 headerData [sizeof (ENetProtocolHeader) + sizeof (enet_uint32)];
    ENetProtocolHeader * header = (ENetProtocolHeader *) headerData;
    int sentLength = 0;
    size_t shouldCompress = 0, slot;
    int fullPass;
    ENetList sentUnreliableCommands;

    enet_list_clear (& sentUnreliableCommands);

    if (checkForTimeouts != 0 && host -> connectRecords != NULL)
      enet_protocol_sweep_connect_records (host);

    fullPass = checkForTimeouts != 0 && enet_protocol_full_send_pass_due (host);
    if (fullPass)
      host -> nextFullSendPass = host -> serviceTime + ENET_SEND_PASS_FULL_MAXIMUM;

    for (int sendPass = 0, continueSending = 0; sendPass <= continueSending; ++ sendPass)
    for (ENetPeer * currentPeer = (slot = 0, host -> peers);
         currentPeer < & host -> peers [host -> peerCount];
         ++ currentPeer, ++ slot)
    {
        /* Local patches 0029 and 0037: runs of 32 slots that hold no peer are passed over at
           once, so that an idle service costs about the same on 4,095 slots as on 64. */
        if (slot % 32 == 0)
        {
            size_t next = enet_protocol_first_used_word (host, slot / 32, fullPass && sendPass == 0) * 32;

            if (next > slot)
            {
                if (next > host -> peerCount)
                  next = host -> peerCount;
                currentPeer += next - slot - 1;
                slot = next - 1;
                continue;
            }
        }

        if (! (fullPass && sendPass == 0) &&
            ! (enet_protocol_send_word (host, slot / 32, 0) & (1u << (slot % 32))))
          continue;

        if (currentPeer -> state == ENET_PEER_STATE_DISCONNECTED ||
            currentPeer -> state == ENET_PEER_STATE_ZOMBIE ||
            (sendPass > 0 && ! (currentPeer -> flags & ENET_PEER_FLAG_CONTINUE_SENDING)))
        {
            if (sendPass == 0)
              enet_protocol_sync_busy (host, currentPeer);
            continue;
        }

        currentPeer -> flags &= ~ ENET_PEER_FLAG_CONTINUE_SENDING;

        /* An unverified half-open peer sends nothing of its own (its handshake answers what its
           client sends) and ends when its handshake does (local patch 0023); unless the
           application queued something for it, such as enet_peer_disconnect_now's DISCONNECT. */
        if (enet_protocol_peer_unverified (currentPeer))
        {
            if (checkForTimeouts != 0 && enet_protocol_handshake_expired (host, & currentPeer -> handshake))
            {
                ++ host -> connectRecordsExpired;
                enet_protocol_end_unverified_peer (host, currentPeer, 0);
                enet_protocol_sync_busy (host, currentPeer);
                continue;
            }
            if (enet_list_empty (& currentPeer -> outgoingCommands))
            {
                enet_protocol_sync_busy (host, currentPeer);
                continue;
            }
        }

        host -> headerFlags = 0;
        host -> commandCount = 0;
        host -> bufferCount = 1;
        host -> packetSize = sizeof (ENetProtocolHeader);

        if (! enet_list_empty (& currentPeer -> acknowledgements))
          enet_protocol_send_acknowledgements (host, currentPeer);

        if (checkForTimeouts != 0 &&
            ! enet_list_empty (& currentPeer -> sentReliableCommands) &&
            ENET_TIME_GREATER_EQUAL (host -> serviceTime, currentPeer -> nextTimeout) &&
            enet_protocol_check_timeouts (host, currentPeer, event) == 1)
        {
            if (event != NULL && event -> type != ENET_EVENT_TYPE_NONE)
            {
                enet_protocol_sync_busy (host, currentPeer);
                if (fullPass)
                  host -> nextFullSendPass = host -> serviceTime;
                return 1;
            }
            else
              goto nextPeer;
        }

        if (((enet_list_empty (& currentPeer -> outgoingCommands) &&
              enet_list_empty (& currentPeer -> outgoingSendReliableCommands)) ||
             enet_protocol_check_outgoing_commands (host, currentPeer, & sentUnreliableCommands)) &&
            enet_list_empty (& currentPeer -> sentReliableCommands) &&
            ENET_TIME_DIFFERENCE (host -> serviceTime, currentPeer -> lastReceiveTime) >= currentPeer -> pingInterval &&
            currentPeer -> mtu - host -> packetSize >= sizeof (ENetProtocolPing))
        { 
            enet_peer_ping (currentPeer);
            enet_protocol_check_outgoing_commands (host, currentPeer, & sentUnreliableCommands);
        }

        if (host -> commandCount == 0)
          goto nextPeer;

        if (currentPeer -> packetLossEpoch == 0)
          currentPeer -> packetLossEpoch = host -> serviceTime;
        else
        if (ENET_TIME_DIFFERENCE (host -> serviceTime, currentPeer -> packetLossEpoch) >= ENET_PEER_PACKET_LOSS_INTERVAL &&
            currentPeer -> packetsSent > 0)
        {
           enet_uint32 packetLoss = currentPeer -> packetsLost * ENET_PEER_PACKET_LOSS_SCALE / currentPeer -> packetsSent;

#ifdef ENET_DEBUG
           printf ("peer %u: %f%%+-%f%% packet loss, %u+-%u ms round trip time, %f%% throttle, %u outgoing, %u/%u incoming\n", currentPeer -> incomingPeerID, currentPeer -> packetLoss / (float) ENET_PEER_PACKET_LOSS_SCALE, currentPeer -> packetLossVariance / (float) ENET_PEER_PACKET_LOSS_SCALE, currentPeer -> roundTripTime, currentPeer -> roundTripTimeVariance, currentPeer -> packetThrottle / (float) ENET_PEER_PACKET_THROTTLE_SCALE, enet_list_size (& currentPeer -> outgoingCommands) + enet_list_size (& currentPeer -> outgoingSendReliableCommands), currentPeer -> channels != NULL ? enet_list_size (& currentPeer -> channels -> incomingReliableCommands) : 0, currentPeer -> channels != NULL ? enet_list_size (& currentPeer -> channels -> incomingUnreliableCommands) : 0);
#endif

           currentPeer -> packetLossVariance = (currentPeer -> packetLossVariance * 3 + ENET_DIFFERENCE (packetLoss, currentPeer -> packetLoss)) / 4;
           currentPeer -> packetLoss = (currentPeer -> packetLoss * 7 + packetLoss) / 8;

           currentPeer -> packetLossEpoch = host -> serviceTime;
           currentPeer -> packetsSent = 0;
           currentPeer -> packetsLost = 0;
        }

        host -> buffers -> data = headerData;
        if (host -> headerFlags & ENET_PROTOCOL_HEADER_FLAG_SENT_TIME)
        {
            header -> sentTime = ENET_HOST_TO_NET_16 (host -> serviceTime & 0xFFFF);

            host -> buffers -> dataLength = sizeof (ENetProtocolHeader);
        }
        else
          host -> buffers -> dataLength = ENET_OFFSETOF(ENetProtocolHeader, sentTime);

        shouldCompress = 0;
        if (host -> compressor.context != NULL && host -> compressor.compress != NULL)
        {
            size_t originalSize = host -> packetSize - sizeof(ENetProtocolHeader),
                   compressedSize = host -> compressor.compress (host -> compressor.context,
                                        & host -> buffers [1], host -> bufferCount - 1,
                                        originalSize,
                                        host -> packetData [1],
                                        originalSize);
            if (compressedSize > 0 && compressedSize < originalSize)
            {
                host -> headerFlags |= ENET_PROTOCOL_HEADER_FLAG_COMPRESSED;
                shouldCompress = compressedSize;
#ifdef ENET_DEBUG_COMPRESS
                printf ("peer %u: compressed %u -> %u (%u%%)\n", currentPeer -> incomingPeerID, originalSize, compressedSize, (compressedSize * 100) / originalSize);
#endif
            }
        }

        if (currentPeer -> outgoingPeerID < ENET_PROTOCOL_MAXIMUM_PEER_ID)
          host -> headerFlags |= currentPeer -> outgoingSessionID << ENET_PROTOCOL_HEADER_SESSION_SHIFT;
        header -> peerID = ENET_HOST_TO_NET_16 (currentPeer -> outgoingPeerID | host -> headerFlags);
        if (host -> checksum != NULL)
        {
            enet_uint8 * checksum = & headerData [host -> buffers -> dataLength];
            enet_uint32 newChecksum = currentPeer -> outgoingPeerID < ENET_PROTOCOL_MAXIMUM_PEER_ID ? currentPeer -> connectID : 0;
            /* Checksum may be unaligned, use memcpy to avoid undefined behaviour. */
            memcpy(checksum, & newChecksum, sizeof (enet_uint32));
            host -> buffers -> dataLength += sizeof (enet_uint32);
            newChecksum = host -> checksum (host -> buffers, host -> bufferCount);
            memcpy(checksum, & newChecksum, sizeof (enet_uint32));
        }

        if (shouldCompress > 0)
        {
            host -> buffers [1].data = host -> packetData [1];
            host -> buffers [1].dataLength = shouldCompress;
            host -> bufferCount = 2;
        }

        currentPeer -> lastSendTime = host -> serviceTime;

        sentLength = enet_socket_send (host -> socket, host -> addressFamily, & currentPeer -> address, host -> buffers, host -> bufferCount);

        enet_protocol_remove_sent_unreliable_commands (currentPeer, & sentUnreliableCommands);

        if (sentLength < 0)
        {
            enet_protocol_sync_busy (host, currentPeer);
            if (fullPass)
              host -> nextFullSendPass = host -> serviceTime;
            return -1;
        }

        host -> totalSentData += sentLength;
        host -> totalSentPackets ++;

    nextPeer:
        if (currentPeer -> flags & ENET_PEER_FLAG_CONTINUE_SENDING)
          continueSending = sendPass + 1;
        enet_protocol_sync_busy (host, currentPeer);
    }

    if (fullPass)
      host -> lastFullSendPass = host -> serviceTime;
   
    return 0;
}

/** Sends any queued packets on the host specified to its designated peers.

    @param host   host to flush
    @remarks this function need only be used in circumstances where one wishes to send queued packets earlier than in a call to enet_host_service().
    @ingroup host
*/
void
enet_host_flush (ENetHost * host)
{
    host -> serviceTime = enet_time_get ();

    enet_protocol_send_outgoing_commands (host, NULL, 0);
}

/** Checks for any queued events on the host and dispatches one if available.

    @param host    host to check for events
    @param event   an event structure where event details will be placed if available
    @retval > 0 if an event was dispatched
    @retval 0 if no events are available
    @retval < 0 on failure
    @ingroup host
*/
int
enet_host_check_events (ENetHost * host, ENetEvent * event)
{
    if (event == NULL) return -1;

    event -> type = ENET_EVENT_TYPE_NONE;
    event -> peer = NULL;
    event -> packet = NULL;

    return enet_protocol_dispatch_incoming_commands (host, event);
}

/** Waits for events on the host specified and shuttles packets between
    the host and its peers.

    @param host    host to service
    @param event   an event structure where event details will be placed if one occurs
                   if event == NULL then no events will be delivered
    @param timeout number of milliseconds that ENet should wait for events
    @retval > 0 if an event occurred within the specified time limit
    @retval 0 if no event occurred
    @retval < 0 on failure
    @remarks enet_host_service should be called fairly regularly for adequate performance
    @ingroup host
*/
int
enet_host_service (ENetHost * host, ENetEvent * event, enet_uint32 timeout)
{
    enet_uint32 waitCondition;

    if (event != NULL)
    {
        event -> type = ENET_EVENT_TYPE_NONE;
        event -> peer = NULL;
        event -> packet = NULL;

        switch (enet_protocol_dispatch_incoming_commands (host, event))
        {
        case 1:
            return 1;

        case -1:
#ifdef ENET_DEBUG
            perror ("Error dispatching incoming packets");
#endif

            return -1;

        default:
            break;
        }
    }

    host -> serviceTime = enet_time_get ();
    
    timeout += host -> serviceTime;

    do
    {
       if (ENET_TIME_DIFFERENCE (host -> serviceTime, host -> bandwidthThrottleEpoch) >= ENET_HOST_BANDWIDTH_THROTTLE_INTERVAL)
         enet_host_bandwidth_throttle (host);

       switch (enet_protocol_send_outgoing_commands (host, event, 1))
       {
       case 1:
          return 1;

       case -1:
#ifdef ENET_DEBUG
          perror ("Error sending outgoing packets");
#endif

          return -1;

       default:
          break;
       }

       switch (enet_protocol_receive_incoming_commands (host, event))
       {
       case 1:
          return 1;

       case -1:
#ifdef ENET_DEBUG
          perror ("Error receiving incoming packets");
#endif

          return -1;

       default:
          break;
       }

       switch (enet_protocol_send_outgoing_commands (host, event, 1))
       {
       case 1:
          return 1;

       case -1:
#ifdef ENET_DEBUG
          perror ("Error sending outgoing packets");
#endif

          return -1;

       default:
          break;
       }

       if (event != NULL)
       {
          switch (enet_protocol_dispatch_incoming_commands (host, event))
          {
          case 1:
             return 1;

          case -1:
#ifdef ENET_DEBUG
             perror ("Error dispatching incoming packets");
#endif

             return -1;

          default:
             break;
          }
       }

       if (ENET_TIME_GREATER_EQUAL (host -> serviceTime, timeout))
         return 0;

       do
       {
          host -> serviceTime = enet_time_get ();

          if (ENET_TIME_GREATER_EQUAL (host -> serviceTime, timeout))
            return 0;

          waitCondition = ENET_SOCKET_WAIT_RECEIVE | ENET_SOCKET_WAIT_INTERRUPT;

          if (enet_socket_wait (host -> socket, & waitCondition, ENET_TIME_DIFFERENCE (timeout, host -> serviceTime)) != 0)
            return -1;
       }
       while (waitCondition & ENET_SOCKET_WAIT_INTERRUPT);

       host -> serviceTime = enet_time_get ();
    } while (waitCondition & ENET_SOCKET_WAIT_RECEIVE);

    return 0; 
}

