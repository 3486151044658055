/** 
 @file  peer.c
 @brief ENet peer management functions
*/
#include <string.h>
#define ENET_BUILDING_LIB 1
#include "enet/utility.h"
#include "enet/enet.h"

/** @defgroup peer ENet peer functions 
    @{
*/

/** Configures throttle parameter for a peer.

    Unreliable packets are dropped by ENet in response to the varying conditions
    of the Internet connection to the peer.  The throttle represents a probability
    that an unreliable packet should not be dropped and thus sent by ENet to the peer.
    The lowest mean round trip time from the sending of a reliable packet to the
    receipt of its acknowledgement is measured over an amount of time specified by
    the interval parameter in milliseconds.  If a measured round trip time happens to
    be significantly less than the mean round trip time measured over the interval, 
    then the throttle probability is increased to allow more traffic by an amount
    specified in the acceleration parameter, which is a ratio to the ENET_PEER_PACKET_THROTTLE_SCALE
    constant.  If a measured round trip time happens to be significantly greater than
    the mean round trip time measured over the interval, then the throttle probability
    is decreased to limit traffic by an amount specified in the deceleration parameter, which
    is a ratio to the ENET_PEER_PACKET_THROTTLE_SCALE constant.  When the throttle has
    a value of ENET_PEER_PACKET_THROTTLE_SCALE, no unreliable packets are dropped by 
    ENet, and so 100% of all unreliable packets will be sent.  When the throttle has a
    value of 0, all unreliable packets are dropped by ENet, and so 0% of all unreliable
    packets will be sent.  Intermediate values for the throttle represent intermediate
    probabilities between 0% and 100% of unreliable packets being sent.  The bandwidth
    limits of the local and foreign hosts are taken into account to determine a 
    sensible limit for the throttle probability above which it should not raise even in
    the best of conditions.

    @param peer peer to configure 
    @param interval interval, in milliseconds, over which to measure lowest mean RTT; the default value is ENET_PEER_PACKET_THROTTLE_INTERVAL.
    @param acceleration rate at which to increase the throttle probability as mean RTT declines
    @param deceleration rate at which to decrease the throttle probability as mean RTT increases
*/
void
enet_peer_throttle_configure (ENetPeer * peer, enet_uint32 interval, enet_uint32 acceleration, enet_uint32 deceleration)
{
    ENetProtocol command;

    peer -> packetThrottleInterval = interval;
    peer -> packetThrottleAcceleration = acceleration;
    peer -> packetThrottleDeceleration = deceleration;

    /* A free (or dead) slot has no remote end to tell: a connection made from it later sends
       these parameters in its CONNECT (one accepted into it takes the connecting side's). A
       command queued here would go out ahead of that CONNECT or VERIFY_CONNECT, in a datagram
       the other side drops whole, and the connection would never complete. */
    if (peer -> state == ENET_PEER_STATE_DISCONNECTED || peer -> state == ENET_PEER_STATE_ZOMBIE)
      return;

    /* Nor is anything sent to an unverified half-open peer's address, which may be forged: the
       handshake's credit pays for what goes there. Its client is told these parameters when its
       echo completes the handshake (local patch 0031). */
    if (peer -> flags & ENET_PEER_FLAG_UNVERIFIED)
      return;

    command.header.command = ENET_PROTOCOL_COMMAND_THROTTLE_CONFIGURE | ENET_PROTOCOL_COMMAND_FLAG_ACKNOWLEDGE;
    command.header.channelID = 0xFF;

    command.throttleConfigure.packetThrottleInterval = ENET_HOST_TO_NET_32 (interval);
    command.throttleConfigure.packetThrottleAcceleration = ENET_HOST_TO_NET_32 (acceleration);
    command.throttleConfigure.packetThrottleDeceleration = ENET_HOST_TO_NET_32 (deceleration);

    enet_peer_queue_outgoing_command (peer, & command, NULL, 0, 0);
}

int
enet_peer_throttle (ENetPeer * peer, enet_uint32 rtt)
{
    if (peer -> lastRoundTripTime <= peer -> lastRoundTripTimeVariance)
    {
        peer -> packetThrottle = peer -> packetThrottleLimit;
    }
    else
    if (rtt <= peer -> lastRoundTripTime)
    {
        peer -> packetThrottle += peer -> packetThrottleAcceleration;

        if (peer -> packetThrottle > peer -> packetThrottleLimit)
          peer -> packetThrottle = peer -> packetThrottleLimit;

        return 1;
    }
    else
    if (rtt > peer -> lastRoundTripTime + 2 * peer -> lastRoundTripTimeVariance)
    {
        if (peer -> packetThrottle > peer -> packetThrottleDeceleration)
          peer -> packetThrottle -= peer -> packetThrottleDeceleration;
        else
          peer -> packetThrottle = 0;

        return -1;
    }

    return 0;
}

/** Queues a packet to be sent.

    On success, ENet will assume ownership of the packet, and so enet_packet_destroy
    should not be called on it thereafter. On failure, the caller still must destroy
    the packet on its own as ENet has not queued the packet. The caller can also
    check the packet's referenceCount field after sending to check if ENet queued
    the packet and thus incremented the referenceCount.

    @param peer destination for the packet
    @param channelID channel on which to send
    @param packet packet to send
    @retval 0 on success
    @retval < 0 on failure
*/
int
enet_peer_send (ENetPeer * peer, enet_uint8 channelID, ENetPacket * packet)
{
   ENetChannel * channel;
   ENetProtocol command;
   size_t fragmentLength;

   if (peer -> state != ENET_PEER_STATE_CONNECTED ||
       channelID >= peer -> channelCount ||
       packet -> dataLength > peer -> host -> maximumPacketSize)
     return -1;

   channel = & peer -> channels [channelID];
   fragmentLength = peer -> mtu - sizeof (ENetProtocolHeader) - sizeof (ENetProtocolSendFragment);
   if (peer -> host -> checksum != NULL)
     fragmentLength -= sizeof(enet_uint32);

   if (packet -> dataLength > fragmentLength)
   {
      enet_uint32 fragmentCount = (packet -> dataLength + fragmentLength - 1) / fragmentLength,
             fragmentNumber,
             fragmentOffset;
      enet_uint8 commandNumber;
      enet_uint16 startSequenceNumber; 
      ENetList fragments;
      ENetOutgoingCommand * fragment;

      if (fragmentCount > ENET_PROTOCOL_MAXIMUM_FRAGMENT_COUNT)
        return -1;

      if ((packet -> flags & (ENET_PACKET_FLAG_RELIABLE | ENET_PACKET_FLAG_UNRELIABLE_FRAGMENT)) == ENET_PACKET_FLAG_UNRELIABLE_FRAGMENT &&
          channel -> outgoingUnreliableSequenceNumber < 0xFFFF)
      {
         commandNumber = ENET_PROTOCOL_COMMAND_SEND_UNRELIABLE_FRAGMENT;
         startSequenceNumber = ENET_HOST_TO_NET_16 (channel -> outgoingUnreliableSequenceNumber + 1);
      }
      else
      {
         commandNumber = ENET_PROTOCOL_COMMAND_SEND_FRAGMENT | ENET_PROTOCOL_COMMAND_FLAG_ACKNOWLEDGE;
         startSequenceNumber = ENET_HOST_TO_NET_16 (channel -> outgoingReliableSequenceNumber + 1);
      }
        
      enet_list_clear (& fragments);

      for (fragmentNumber = 0,
             fragmentOffset = 0;
           fragmentOffset < packet -> dataLength;
           ++ fragmentNumber,
             fragmentOffset += fragmentLength)
      {
         if (packet -> dataLength - fragmentOffset < fragmentLength)
           fragmentLength = packet -> dataLength - fragmentOffset;

         fragment = (ENetOutgoingCommand *) enet_malloc (sizeof (ENetOutgoingCommand));
         if (fragment == NULL)
         {
            while (! enet_list_empty (& fragments))
            {
               fragment = (ENetOutgoingCommand *) enet_list_remove (enet_list_begin (& fragments));
               
               enet_free (fragment);
            }
            
            return -1;
         }
         
         fragment -> fragmentOffset = fragmentOffset;
         fragment -> fragmentLength = fragmentLength;
         fragment -> packet = packet;
         fragment -> command.header.command = commandNumber;
         fragment -> command.header.channelID = channelID;
         fragment -> command.sendFragment.startSequenceNumber = startSequenceNumber;
         fragment -> command.sendFragment.dataLength = ENET_HOST_TO_NET_16 (fragmentLength);
         fragment -> command.sendFragment.fragmentCount = ENET_HOST_TO_NET_32 (fragmentCount);
         fragment -> command.sendFragment.fragmentNumber = ENET_HOST_TO_NET_32 (fragmentNumber);
         fragment -> command.sendFragment.totalLength = ENET_HOST_TO_NET_32 (packet -> dataLength);
         fragment -> command.sendFragment.fragmentOffset = ENET_NET_TO_HOST_32 (fragmentOffset);
        
         enet_list_insert (enet_list_end (& fragments), fragment);
      }

      packet -> referenceCount += fragmentNumber;

      while (! enet_list_empty (& fragments))
      {
         fragment = (ENetOutgoingCommand *) enet_list_remove (enet_list_begin (& fragments));
 
         enet_peer_setup_outgoing_command (peer, fragment);
      }

      return 0;
   }

   command.header.channelID = channelID;

   if ((packet -> flags & (ENET_PACKET_FLAG_RELIABLE | ENET_PACKET_FLAG_UNSEQUENCED)) == ENET_PACKET_FLAG_UNSEQUENCED)
   {
      command.header.command = ENET_PROTOCOL_COMMAND_SEND_UNSEQUENCED | ENET_PROTOCOL_COMMAND_FLAG_UNSEQUENCED;
      command.sendUnsequenced.dataLength = ENET_HOST_TO_NET_16 (packet -> dataLength);
   }
   else 
   if (packet -> flags & ENET_PACKET_FLAG_RELIABLE || channel -> outgoingUnreliableSequenceNumber >= 0xFFFF)
   {
      command.header.command = ENET_PROTOCOL_COMMAND_SEND_RELIABLE | ENET_PROTOCOL_COMMAND_FLAG_ACKNOWLEDGE;
      command.sendReliable.dataLength = ENET_HOST_TO_NET_16 (packet -> dataLength);
   }
   else
   {
      command.header.command = ENET_PROTOCOL_COMMAND_SEND_UNRELIABLE;
      command.sendUnreliable.dataLength = ENET_HOST_TO_NET_16 (packet -> dataLength);
   }

   if (enet_peer_queue_outgoing_command (peer, & command, packet, 0, packet -> dataLength) == NULL)
     return -1;

   return 0;
}

/** What a typical allocator (glibc's) takes for a block of size bytes: a word of its own,
    rounded up to 16 bytes, and at least 32.
*/
static size_t
enet_peer_allocation_size (size_t size)
{
   size = (size + sizeof (size_t) + 15) & ~ (size_t) 15;

   return size < 32 ? 32 : size;
}

/** The memory an incoming command holds until it is received: its own block, its packet, the
    packet's data and a reassembly's fragment bitmap. The whole of it counts as waiting data,
    so that the limits bound what a peer makes us hold and not only its payload: an empty
    message holds 176 bytes for the 6 it took to send.
*/
static size_t
enet_peer_waiting_data_size (size_t dataLength, enet_uint32 fragmentCount)
{
   size_t size = enet_peer_allocation_size (sizeof (ENetIncomingCommand)) + enet_peer_allocation_size (sizeof (ENetPacket));

   if (dataLength > 0)
     size += enet_peer_allocation_size (dataLength);

   if (fragmentCount > 0)
     size += enet_peer_allocation_size ((fragmentCount + 31) / 32 * sizeof (enet_uint32));

   return size;
}

static void
enet_peer_hold_waiting_data (ENetPeer * peer, size_t size)
{
   peer -> totalWaitingData += size;
   peer -> host -> totalWaitingData += size;
}

/** Subtracts what a queued incoming command held from the peer's and the host's waiting data
    totals, clamping at zero so neither counter can wrap around.
*/
static void
enet_peer_release_waiting_data (ENetPeer * peer, size_t size)
{
   ENetHost * host = peer -> host;

   if (size > peer -> totalWaitingData)
     size = peer -> totalWaitingData;

   peer -> totalWaitingData -= size;

   if (host -> totalWaitingData > size)
     host -> totalWaitingData -= size;
   else
     host -> totalWaitingData = 0;
}

static void
enet_peer_release_incoming_command (ENetPeer * peer, const ENetIncomingCommand * incomingCommand)
{
   if (incomingCommand -> packet != NULL)
     enet_peer_release_waiting_data (peer, enet_peer_waiting_data_size (incomingCommand -> packet -> dataLength, incomingCommand -> fragmentCount));
}

/** What the peers with the address of the datagram being received hold. The other peers' part
    is counted once per datagram: every command of a datagram belongs to one peer, and only that
    peer's total changes while it is processed.
*/
static size_t
enet_peer_address_waiting_data (ENetPeer * peer)
{
   ENetHost * host = peer -> host;
   ENetPeer * currentPeer;

   if (host -> receivedAddressWaitingData == (size_t) -1)
   {
      host -> receivedAddressWaitingData = 0;

      for (currentPeer = host -> peers;
           currentPeer < & host -> peers [host -> peerCount];
           ++ currentPeer)
      {
         if (currentPeer != peer && enet_address_same_source (& currentPeer -> address, & peer -> address))
           host -> receivedAddressWaitingData += currentPeer -> totalWaitingData;
      }
   }

   return host -> receivedAddressWaitingData + peer -> totalWaitingData;
}

/** Whether a peer may hold size more bytes of incoming commands: within its own limit, unless
    nothing of it is waiting (a single packet larger than the limit still gets through); then,
    past a reserve that every peer keeps whatever the others hold (so that a peer whose data the
    application keeps receiving is never starved by others), within the host's total and its
    address's share of it.
*/
static int
enet_peer_may_hold_shared (ENetPeer * peer, size_t size);

static int
enet_peer_may_hold (ENetPeer * peer, size_t size)
{
   ENetHost * host = peer -> host;

   if (peer -> totalWaitingData > 0 &&
       (peer -> totalWaitingData >= host -> maximumWaitingData ||
        size > host -> maximumWaitingData - peer -> totalWaitingData))
     return 0;

   return enet_peer_may_hold_shared (peer, size);
}

/** local patch 0043: whether held + size stays within twice limit. */
static int
enet_peer_within_twice (size_t held, size_t size, size_t limit)
{
   size_t twice = limit > (size_t) -1 / 2 ? (size_t) -1 : 2 * limit;

   return held <= twice && size <= twice - held;
}

/** local patch 0043: whether a reliable command that the limits refuse may be held past them:
    the one its channel waits for (the next reliable sequence number) while the channel holds
    later commands. Without this, later commands that filled a limit while it was missing could
    never be delivered (they wait for it) nor released, so every retransmission of it was refused
    and the connection timed out. It is held while the peer, the host and the address hold at
    most twice their limits (it is delivered at once with the run behind it, so what passes a
    limit is what the application has not taken yet); past that, only when the peer has nothing
    left for the application: a whole message (at most an MTU) in any case, the first fragment of
    a larger one while the peer holds at most its limit or one message of the largest size (a
    later message larger than the limit, held when nothing else of the peer was) and the host's
    and the address's limits allow it. Such a command never allocates the channel's reliable
    table (the caller): the channel then holds at most one command more than the table's
    threshold, and the command leaves at once (or, a reassembly, when complete).
*/
static int
enet_peer_may_hold_next (ENetPeer * peer, ENetChannel * channel, const ENetProtocol * command, size_t size, enet_uint32 fragmentCount)
{
   ENetHost * host = peer -> host;

   switch (command -> header.command & ENET_PROTOCOL_COMMAND_MASK)
   {
   case ENET_PROTOCOL_COMMAND_SEND_RELIABLE:
   case ENET_PROTOCOL_COMMAND_SEND_FRAGMENT:
      break;

   default:
      return 0;
   }

   if (command -> header.reliableSequenceNumber != (enet_uint16) (channel -> incomingReliableSequenceNumber + 1) ||
       channel -> incomingReliableCount == 0)
     return 0;

   if (enet_peer_within_twice (peer -> totalWaitingData, size, host -> maximumWaitingData) &&
       enet_peer_within_twice (host -> totalWaitingData, size, host -> maximumHostWaitingData) &&
       enet_peer_within_twice (enet_peer_address_waiting_data (peer), size, host -> maximumAddressWaitingData))
     return 1;

   if (! enet_list_empty (& peer -> dispatchedCommands))
     return 0;

   if (fragmentCount == 0)
     return 1;

   return peer -> totalWaitingData <= ENET_MAX (host -> maximumWaitingData, host -> maximumPacketSize) &&
          enet_peer_may_hold_shared (peer, size);
}

/** Past the peer's own limit (enet_peer_may_hold): the reserve, the host's total and the
    address's share.
*/
static int
enet_peer_may_hold_shared (ENetPeer * peer, size_t size)
{
   ENetHost * host = peer -> host;
   size_t addressWaitingData;

   if (peer -> totalWaitingData < ENET_PEER_RESERVED_WAITING_DATA &&
       size <= ENET_PEER_RESERVED_WAITING_DATA - peer -> totalWaitingData)
     return 1;

   if (host -> totalWaitingData >= host -> maximumHostWaitingData ||
       size > host -> maximumHostWaitingData - host -> totalWaitingData)
     return 0;

   if (host -> totalWaitingData < host -> maximumAddressWaitingData &&
       size <= host -> maximumAddressWaitingData - host -> totalWaitingData)
     return 1;

   addressWaitingData = enet_peer_address_waiting_data (peer);

   return addressWaitingData < host -> maximumAddressWaitingData &&
          size <= host -> maximumAddressWaitingData - addressWaitingData;
}

/** Attempts to dequeue any incoming queued packet.
    @param peer peer to dequeue packets from
    @param channelID holds the channel ID of the channel the packet was received on success
    @returns a pointer to the packet, or NULL if there are no available incoming queued packets
*/
ENetPacket *
enet_peer_receive (ENetPeer * peer, enet_uint8 * channelID)
{
   ENetIncomingCommand * incomingCommand;
   ENetPacket * packet;
   
   if (enet_list_empty (& peer -> dispatchedCommands))
     return NULL;

   incomingCommand = (ENetIncomingCommand *) enet_list_remove (enet_list_begin (& peer -> dispatchedCommands));

   if (channelID != NULL)
     * channelID = incomingCommand -> command.header.channelID;

   packet = incomingCommand -> packet;

   -- packet -> referenceCount;

   enet_peer_release_incoming_command (peer, incomingCommand);

   if (incomingCommand -> fragments != NULL)
     enet_free (incomingCommand -> fragments);

   enet_free (incomingCommand);

   return packet;
}

static void
enet_peer_reset_outgoing_commands (ENetPeer * peer, ENetList * queue)
{
    ENetOutgoingCommand * outgoingCommand;

    while (! enet_list_empty (queue))
    {
       outgoingCommand = (ENetOutgoingCommand *) enet_list_remove (enet_list_begin (queue));

       if (outgoingCommand -> packet != NULL)
       {
          -- outgoingCommand -> packet -> referenceCount;

          if (outgoingCommand -> packet -> referenceCount == 0)
            enet_packet_destroy (outgoingCommand -> packet);
       }

       enet_free (outgoingCommand);
    }
}

/** Frees an incoming command that is on no list any more, and what it held. */
static void
enet_peer_free_incoming_command (ENetPeer * peer, ENetIncomingCommand * incomingCommand)
{
    if (incomingCommand -> packet != NULL)
    {
       enet_peer_release_incoming_command (peer, incomingCommand);

       -- incomingCommand -> packet -> referenceCount;

       if (incomingCommand -> packet -> referenceCount == 0)
         enet_packet_destroy (incomingCommand -> packet);
    }

    if (incomingCommand -> fragments != NULL)
      enet_free (incomingCommand -> fragments);

    enet_free (incomingCommand);
}

static void
enet_peer_remove_incoming_commands (ENetPeer * peer, ENetList * queue, ENetListIterator startCommand, ENetListIterator endCommand, ENetIncomingCommand * excludeCommand)
{
    ENetListIterator currentCommand;    
    
    for (currentCommand = startCommand; currentCommand != endCommand; )
    {
       ENetIncomingCommand * incomingCommand = (ENetIncomingCommand *) currentCommand;

       currentCommand = enet_list_next (currentCommand);

       if (incomingCommand == excludeCommand)
         continue;

       enet_list_remove (& incomingCommand -> incomingCommandList);
 
       enet_peer_free_incoming_command (peer, incomingCommand);
    }
}

/** local patch: a channel's held reliable commands are found by sequence number, never by
    walking them in order. Up to ENET_PEER_RELIABLE_TABLE_THRESHOLD of them the list is
    searched; past that, a table of ENET_PEER_RELIABLE_TABLE_SIZE chains indexed by the low bits
    of the sequence number. Held commands lie within the ENET_PEER_FREE_RELIABLE_WINDOWS - 1
    reliable windows after the channel's incoming sequence number (28,672 numbers), so a chain
    never holds more than 28 of them, whatever numbers a peer picks.
*/
static size_t
enet_peer_reliable_table_size (void)
{
   return enet_peer_allocation_size (ENET_PEER_RELIABLE_TABLE_SIZE * sizeof (ENetIncomingCommand *));
}

ENetIncomingCommand *
enet_peer_find_incoming_reliable_command (ENetChannel * channel, enet_uint16 reliableSequenceNumber)
{
   ENetIncomingCommand * incomingCommand;
   ENetListIterator currentCommand;

   if (channel -> incomingReliableTable != NULL)
   {
      for (incomingCommand = channel -> incomingReliableTable [reliableSequenceNumber % ENET_PEER_RELIABLE_TABLE_SIZE];
           incomingCommand != NULL;
           incomingCommand = incomingCommand -> nextInTable)
      {
         if (incomingCommand -> reliableSequenceNumber == reliableSequenceNumber)
           return incomingCommand;
      }

      return NULL;
   }

   for (currentCommand = enet_list_begin (& channel -> incomingReliableCommands);
        currentCommand != enet_list_end (& channel -> incomingReliableCommands);
        currentCommand = enet_list_next (currentCommand))
   {
      incomingCommand = (ENetIncomingCommand *) currentCommand;

      if (incomingCommand -> reliableSequenceNumber == reliableSequenceNumber)
        return incomingCommand;
   }

   return NULL;
}

static void
enet_peer_insert_in_reliable_table (ENetChannel * channel, ENetIncomingCommand * incomingCommand)
{
   ENetIncomingCommand ** chain = & channel -> incomingReliableTable [incomingCommand -> reliableSequenceNumber % ENET_PEER_RELIABLE_TABLE_SIZE];

   incomingCommand -> nextInTable = * chain;
   * chain = incomingCommand;
}

static int
enet_peer_create_reliable_table (ENetChannel * channel)
{
   ENetListIterator currentCommand;

   channel -> incomingReliableTable = (ENetIncomingCommand **) enet_malloc (ENET_PEER_RELIABLE_TABLE_SIZE * sizeof (ENetIncomingCommand *));
   if (channel -> incomingReliableTable == NULL)
     return -1;

   memset (channel -> incomingReliableTable, 0, ENET_PEER_RELIABLE_TABLE_SIZE * sizeof (ENetIncomingCommand *));

   for (currentCommand = enet_list_begin (& channel -> incomingReliableCommands);
        currentCommand != enet_list_end (& channel -> incomingReliableCommands);
        currentCommand = enet_list_next (currentCommand))
     enet_peer_insert_in_reliable_table (channel, (ENetIncomingCommand *) currentCommand);

   return 0;
}

static void
enet_peer_free_reliable_table (ENetPeer * peer, ENetChannel * channel)
{
   if (channel -> incomingReliableTable == NULL)
     return;

   enet_free (channel -> incomingReliableTable);
   channel -> incomingReliableTable = NULL;

   enet_peer_release_waiting_data (peer, enet_peer_reliable_table_size ());
}

static void
enet_peer_hold_reliable_command (ENetChannel * channel, ENetIncomingCommand * incomingCommand)
{
   enet_list_insert (enet_list_end (& channel -> incomingReliableCommands), incomingCommand);

   if (channel -> incomingReliableTable != NULL)
     enet_peer_insert_in_reliable_table (channel, incomingCommand);

   ++ channel -> incomingReliableCount;
}

static void
enet_peer_unhold_reliable_command (ENetPeer * peer, ENetChannel * channel, ENetIncomingCommand * incomingCommand)
{
   enet_list_remove (& incomingCommand -> incomingCommandList);

   if (channel -> incomingReliableTable != NULL)
   {
      ENetIncomingCommand ** chain = & channel -> incomingReliableTable [incomingCommand -> reliableSequenceNumber % ENET_PEER_RELIABLE_TABLE_SIZE];

      while (* chain != incomingCommand)
        chain = & (* chain) -> nextInTable;

      * chain = incomingCommand -> nextInTable;
   }

   -- channel -> incomingReliableCount;

   if (channel -> incomingReliableCount == 0)
     enet_peer_free_reliable_table (peer, channel);
}

/** A reassembled packet takes the sequence numbers after its first one. Reliable commands held
    under those numbers (no stock sender sends any) can never be dispatched, and would be taken
    for later commands once the numbers wrap around: they are dropped.
*/
static void
enet_peer_drop_skipped_reliable_commands (ENetPeer * peer, ENetChannel * channel, enet_uint16 startSequenceNumber, enet_uint32 skipped)
{
   ENetIncomingCommand * incomingCommand;
   ENetListIterator currentCommand;
   enet_uint32 number;

   if (skipped == 0 || channel -> incomingReliableCount == 0)
     return;

   if (skipped < channel -> incomingReliableCount)
   {
      for (number = 1; number <= skipped; ++ number)
      {
         incomingCommand = enet_peer_find_incoming_reliable_command (channel, (enet_uint16) (startSequenceNumber + number));
         if (incomingCommand == NULL)
           continue;

         enet_peer_unhold_reliable_command (peer, channel, incomingCommand);
         enet_peer_free_incoming_command (peer, incomingCommand);
      }

      return;
   }

   for (currentCommand = enet_list_begin (& channel -> incomingReliableCommands);
        currentCommand != enet_list_end (& channel -> incomingReliableCommands); )
   {
      incomingCommand = (ENetIncomingCommand *) currentCommand;

      currentCommand = enet_list_next (currentCommand);

      if (skipped < 0xFFFF &&
          (enet_uint16) (incomingCommand -> reliableSequenceNumber - startSequenceNumber - 1) >= skipped)
        continue;

      enet_peer_unhold_reliable_command (peer, channel, incomingCommand);
      enet_peer_free_incoming_command (peer, incomingCommand);
   }
}

static void
enet_peer_reset_incoming_commands (ENetPeer * peer, ENetList * queue)
{
    enet_peer_remove_incoming_commands(peer, queue, enet_list_begin (queue), enet_list_end (queue), NULL);
}
 
void
enet_peer_reset_queues (ENetPeer * peer)
{
    ENetChannel * channel;

    if (peer -> flags & ENET_PEER_FLAG_NEEDS_DISPATCH)
    {
       enet_list_remove (& peer -> dispatchList);

       peer -> flags &= ~ ENET_PEER_FLAG_NEEDS_DISPATCH;
    }

    while (! enet_list_empty (& peer -> acknowledgements))
      enet_free (enet_list_remove (enet_list_begin (& peer -> acknowledgements)));

    enet_peer_reset_outgoing_commands (peer, & peer -> sentReliableCommands);
    enet_peer_reset_outgoing_commands (peer, & peer -> outgoingCommands);
    enet_peer_reset_outgoing_commands (peer, & peer -> outgoingSendReliableCommands);

    if (peer -> sentReliableTable != NULL)
      enet_free (peer -> sentReliableTable);

    peer -> sentReliableTable = NULL;
    peer -> sentReliableTableSize = 0;
    peer -> sentReliableCount = 0;
    enet_peer_reset_incoming_commands (peer, & peer -> dispatchedCommands);

    if (peer -> channels != NULL && peer -> channelCount > 0)
    {
        for (channel = peer -> channels;
             channel < & peer -> channels [peer -> channelCount];
             ++ channel)
        {
            enet_peer_reset_incoming_commands (peer, & channel -> incomingReliableCommands);
            enet_peer_reset_incoming_commands (peer, & channel -> incomingUnreliableCommands);
            enet_peer_free_reliable_table (peer, channel);
            channel -> incomingReliableCount = 0;
        }

        enet_free (peer -> channels);
    }

    peer -> channels = NULL;
    peer -> channelCount = 0;
}

void
enet_peer_on_connect (ENetPeer * peer)
{
    if (peer -> state != ENET_PEER_STATE_CONNECTED && peer -> state != ENET_PEER_STATE_DISCONNECT_LATER)
    {
        if (peer -> incomingBandwidth != 0)
          ++ peer -> host -> bandwidthLimitedPeers;

        ++ peer -> host -> connectedPeers;
    }
}

void
enet_peer_on_disconnect (ENetPeer * peer)
{
    if (peer -> state == ENET_PEER_STATE_CONNECTED || peer -> state == ENET_PEER_STATE_DISCONNECT_LATER)
    {
        if (peer -> incomingBandwidth != 0)
          -- peer -> host -> bandwidthLimitedPeers;

        -- peer -> host -> connectedPeers;
    }
}

/* Local patch 0024: a peer whose client addresses it by another slot's id (its record's offer,
   taken meanwhile by someone else) leaves that id remembering its sessions, so that the next
   connection offered it gets others than the late datagrams of this one (whose DISCONNECT may
   have been lost). */
static void
enet_peer_forget_alias (ENetPeer * peer)
{
    ENetPeer * label = & peer -> host -> peers [peer -> connectAlias];

    label -> offeredIncomingSessionID = peer -> outgoingSessionID;
    label -> offeredOutgoingSessionID = peer -> incomingSessionID;
}

/** Forcefully disconnects a peer.
    @param peer peer to forcefully disconnect
    @remarks The foreign host represented by the peer is not notified of the disconnection and will timeout
    on its connection to the local host.
*/
void
enet_peer_reset (ENetPeer * peer)
{
    enet_peer_on_disconnect (peer);
        
    peer -> outgoingPeerID = ENET_PROTOCOL_MAXIMUM_PEER_ID;
    peer -> connectID = 0;

    peer -> state = ENET_PEER_STATE_DISCONNECTED;

    peer -> incomingBandwidth = 0;
    peer -> outgoingBandwidth = 0;
    peer -> incomingBandwidthThrottleEpoch = 0;
    peer -> outgoingBandwidthThrottleEpoch = 0;
    peer -> incomingDataTotal = 0;
    peer -> outgoingDataTotal = 0;
    peer -> lastSendTime = 0;
    peer -> lastReceiveTime = 0;
    peer -> nextTimeout = 0;
    peer -> earliestTimeout = 0;
    peer -> packetLossEpoch = 0;
    peer -> packetsSent = 0;
    peer -> packetsLost = 0;
    peer -> packetLoss = 0;
    peer -> packetLossVariance = 0;
    peer -> packetThrottle = ENET_PEER_DEFAULT_PACKET_THROTTLE;
    peer -> packetThrottleLimit = ENET_PEER_PACKET_THROTTLE_SCALE;
    peer -> packetThrottleCounter = 0;
    peer -> packetThrottleEpoch = 0;
    peer -> packetThrottleAcceleration = ENET_PEER_PACKET_THROTTLE_ACCELERATION;
    peer -> packetThrottleDeceleration = ENET_PEER_PACKET_THROTTLE_DECELERATION;
    peer -> packetThrottleInterval = ENET_PEER_PACKET_THROTTLE_INTERVAL;
    peer -> pingInterval = ENET_PEER_PING_INTERVAL;
    peer -> timeoutLimit = ENET_PEER_TIMEOUT_LIMIT;
    peer -> timeoutMinimum = ENET_PEER_TIMEOUT_MINIMUM;
    peer -> timeoutMaximum = ENET_PEER_TIMEOUT_MAXIMUM;
    peer -> lastRoundTripTime = ENET_PEER_DEFAULT_ROUND_TRIP_TIME;
    peer -> lowestRoundTripTime = ENET_PEER_DEFAULT_ROUND_TRIP_TIME;
    peer -> lastRoundTripTimeVariance = 0;
    peer -> highestRoundTripTimeVariance = 0;
    peer -> roundTripTime = ENET_PEER_DEFAULT_ROUND_TRIP_TIME;
    peer -> roundTripTimeVariance = 0;
    peer -> mtu = peer -> host -> mtu;
    peer -> reliableDataInTransit = 0;
    peer -> outgoingReliableSequenceNumber = 0;
    peer -> windowSize = ENET_PROTOCOL_MAXIMUM_WINDOW_SIZE;
    peer -> incomingUnsequencedGroup = 0;
    peer -> outgoingUnsequencedGroup = 0;
    peer -> eventData = 0;
    enet_peer_release_waiting_data (peer, peer -> totalWaitingData);
    if (peer -> flags & ENET_PEER_FLAG_ALIASED)
      enet_peer_forget_alias (peer);
    enet_host_unindex_peer (peer -> host, peer);
    peer -> flags = 0;
    memset (& peer -> handshake, 0, sizeof (peer -> handshake));

    memset (peer -> unsequencedWindow, 0, sizeof (peer -> unsequencedWindow));
    
    enet_peer_reset_queues (peer);
    enet_host_sync_slot (peer -> host, peer);
}

/** Sends a ping request to a peer.
    @param peer destination for the ping request
    @remarks ping requests factor into the mean round trip time as designated by the 
    roundTripTime field in the ENetPeer structure.  ENet automatically pings all connected
    peers at regular intervals, however, this function may be called to ensure more
    frequent ping requests.
*/
void
enet_peer_ping (ENetPeer * peer)
{
    ENetProtocol command;

    if (peer -> state != ENET_PEER_STATE_CONNECTED)
      return;

    command.header.command = ENET_PROTOCOL_COMMAND_PING | ENET_PROTOCOL_COMMAND_FLAG_ACKNOWLEDGE;
    command.header.channelID = 0xFF;
   
    enet_peer_queue_outgoing_command (peer, & command, NULL, 0, 0);
}

/** Sets the interval at which pings will be sent to a peer. 
    
    Pings are used both to monitor the liveness of the connection and also to dynamically
    adjust the throttle during periods of low traffic so that the throttle has reasonable
    responsiveness during traffic spikes.

    @param peer the peer to adjust
    @param pingInterval the interval at which to send pings; defaults to ENET_PEER_PING_INTERVAL if 0
*/
void
enet_peer_ping_interval (ENetPeer * peer, enet_uint32 pingInterval)
{
    peer -> pingInterval = pingInterval ? pingInterval : ENET_PEER_PING_INTERVAL;

    /* Local patch 0038: a visit tells the send pass when this peer's next ping falls due. */
    enet_host_mark_busy (peer -> host, peer);
}

/** Sets the timeout parameters for a peer.

    The timeout parameter control how and when a peer will timeout from a failure to acknowledge
    reliable traffic. Timeout values use an exponential backoff mechanism, where if a reliable
    packet is not acknowledge within some multiple of the average RTT plus a variance tolerance, 
    the timeout will be doubled until it reaches a set limit. If the timeout is thus at this
    limit and reliable packets have been sent but not acknowledged within a certain minimum time 
    period, the peer will be disconnected. Alternatively, if reliable packets have been sent
    but not acknowledged for a certain maximum time period, the peer will be disconnected regardless
    of the current timeout limit value.
    
    @param peer the peer to adjust
    @param timeoutLimit the timeout limit; defaults to ENET_PEER_TIMEOUT_LIMIT if 0
    @param timeoutMinimum the timeout minimum; defaults to ENET_PEER_TIMEOUT_MINIMUM if 0
    @param timeoutMaximum the timeout maximum; defaults to ENET_PEER_TIMEOUT_MAXIMUM if 0
*/

void
enet_peer_timeout (ENetPeer * peer, enet_uint32 timeoutLimit, enet_uint32 timeoutMinimum, enet_uint32 timeoutMaximum)
{
    peer -> timeoutLimit = timeoutLimit ? timeoutLimit : ENET_PEER_TIMEOUT_LIMIT;
    peer -> timeoutMinimum = timeoutMinimum ? timeoutMinimum : ENET_PEER_TIMEOUT_MINIMUM;
    peer -> timeoutMaximum = timeoutMaximum ? timeoutMaximum : ENET_PEER_TIMEOUT_MAXIMUM;
}

/** Force an immediate disconnection from a peer.
    @param peer peer to disconnect
    @param data data describing the disconnection
    @remarks No ENET_EVENT_DISCONNECT event will be generated. The foreign peer is not
    guaranteed to receive the disconnect notification, and is reset immediately upon
    return from this function.
*/
void
enet_peer_disconnect_now (ENetPeer * peer, enet_uint32 data)
{
    ENetProtocol command;

    if (peer -> state == ENET_PEER_STATE_DISCONNECTED)
      return;

    if (peer -> state != ENET_PEER_STATE_ZOMBIE &&
        peer -> state != ENET_PEER_STATE_DISCONNECTING)
    {
        enet_peer_reset_queues (peer);

        command.header.command = ENET_PROTOCOL_COMMAND_DISCONNECT | ENET_PROTOCOL_COMMAND_FLAG_UNSEQUENCED;
        command.header.channelID = 0xFF;
        command.disconnect.data = ENET_HOST_TO_NET_32 (data);

        enet_peer_queue_outgoing_command (peer, & command, NULL, 0, 0);

        enet_host_flush (peer -> host);
    }

    enet_peer_reset (peer);
}

/** Request a disconnection from a peer.
    @param peer peer to request a disconnection
    @param data data describing the disconnection
    @remarks An ENET_EVENT_DISCONNECT event will be generated by enet_host_service()
    once the disconnection is complete.
*/
void
enet_peer_disconnect (ENetPeer * peer, enet_uint32 data)
{
    ENetProtocol command;

    if (peer -> state == ENET_PEER_STATE_DISCONNECTING ||
        peer -> state == ENET_PEER_STATE_DISCONNECTED ||
        peer -> state == ENET_PEER_STATE_ACKNOWLEDGING_DISCONNECT ||
        peer -> state == ENET_PEER_STATE_ZOMBIE)
      return;

    enet_peer_reset_queues (peer);

    command.header.command = ENET_PROTOCOL_COMMAND_DISCONNECT;
    command.header.channelID = 0xFF;
    command.disconnect.data = ENET_HOST_TO_NET_32 (data);

    if (peer -> state == ENET_PEER_STATE_CONNECTED || peer -> state == ENET_PEER_STATE_DISCONNECT_LATER)
      command.header.command |= ENET_PROTOCOL_COMMAND_FLAG_ACKNOWLEDGE;
    else
      command.header.command |= ENET_PROTOCOL_COMMAND_FLAG_UNSEQUENCED;      
    
    enet_peer_queue_outgoing_command (peer, & command, NULL, 0, 0);

    if (peer -> state == ENET_PEER_STATE_CONNECTED || peer -> state == ENET_PEER_STATE_DISCONNECT_LATER)
    {
        enet_peer_on_disconnect (peer);

        peer -> state = ENET_PEER_STATE_DISCONNECTING;
    }
    else
    {
        enet_host_flush (peer -> host);
        enet_peer_reset (peer);
    }
}

int
enet_peer_has_outgoing_commands (ENetPeer * peer)
{
  if (enet_list_empty (& peer -> outgoingCommands) &&
      enet_list_empty (& peer -> outgoingSendReliableCommands) &&
      enet_list_empty (& peer -> sentReliableCommands))
    return 0;

  return 1;
}

/** Request a disconnection from a peer, but only after all queued outgoing packets are sent.
    @param peer peer to request a disconnection
    @param data data describing the disconnection
    @remarks An ENET_EVENT_DISCONNECT event will be generated by enet_host_service()
    once the disconnection is complete.
*/
void
enet_peer_disconnect_later (ENetPeer * peer, enet_uint32 data)
{   
    if ((peer -> state == ENET_PEER_STATE_CONNECTED || peer -> state == ENET_PEER_STATE_DISCONNECT_LATER) && 
        enet_peer_has_outgoing_commands (peer))
    {
        peer -> state = ENET_PEER_STATE_DISCONNECT_LATER;
        peer -> eventData = data;
    }
    else
      enet_peer_disconnect (peer, data);
}

ENetAcknowledgement *
enet_peer_queue_acknowledgement (ENetPeer * peer, const ENetProtocol * command, enet_uint16 sentTime)
{
    ENetAcknowledgement * acknowledgement;

    if (command -> header.channelID < peer -> channelCount)
    {
        ENetChannel * channel = & peer -> channels [command -> header.channelID];
        enet_uint16 reliableWindow = command -> header.reliableSequenceNumber / ENET_PEER_RELIABLE_WINDOW_SIZE,
                    currentWindow = channel -> incomingReliableSequenceNumber / ENET_PEER_RELIABLE_WINDOW_SIZE;

        if (command -> header.reliableSequenceNumber < channel -> incomingReliableSequenceNumber)
           reliableWindow += ENET_PEER_RELIABLE_WINDOWS;

        if (reliableWindow >= currentWindow + ENET_PEER_FREE_RELIABLE_WINDOWS - 1 && reliableWindow <= currentWindow + ENET_PEER_FREE_RELIABLE_WINDOWS)
          return NULL;
    }

    acknowledgement = (ENetAcknowledgement *) enet_malloc (sizeof (ENetAcknowledgement));
    if (acknowledgement == NULL)
      return NULL;

    peer -> outgoingDataTotal += sizeof (ENetProtocolAcknowledge);

    acknowledgement -> sentTime = sentTime;
    acknowledgement -> command = * command;
    
    enet_list_insert (enet_list_end (& peer -> acknowledgements), acknowledgement);
    enet_host_mark_busy (peer -> host, peer);
    
    return acknowledgement;
}

/** local patch: the reliable commands a peer sent and that are not acknowledged yet, wherever
    they are (sentReliableCommands, or back on an outgoing queue to be sent again), in a table
    by channel and sequence number, so that an acknowledgement finds its command, or that it has
    none, without walking everything in flight. The keys are our own numbers, so the chains
    stay short whatever a peer acknowledges; the table doubles when it holds more commands
    than chains, and lives until the peer's queues are reset.
*/
static size_t
enet_peer_sent_reliable_chain (ENetPeer * peer, enet_uint8 channelID, enet_uint16 reliableSequenceNumber)
{
   enet_uint32 key = (((enet_uint32) channelID << 16) | reliableSequenceNumber) * 2654435761U;

   return (key ^ (key >> 16)) & (peer -> sentReliableTableSize - 1);
}

static int
enet_peer_resize_sent_reliable_table (ENetPeer * peer, size_t size)
{
   ENetOutgoingCommand ** table = (ENetOutgoingCommand **) enet_malloc (size * sizeof (ENetOutgoingCommand *)),
                       ** oldTable = peer -> sentReliableTable;
   size_t oldSize = peer -> sentReliableTableSize, chain;

   if (table == NULL)
     return -1;

   memset (table, 0, size * sizeof (ENetOutgoingCommand *));

   peer -> sentReliableTable = table;
   peer -> sentReliableTableSize = size;

   for (chain = 0; chain < oldSize; ++ chain)
   {
      while (oldTable [chain] != NULL)
      {
         ENetOutgoingCommand * outgoingCommand = oldTable [chain];
         ENetOutgoingCommand ** newChain = & table [enet_peer_sent_reliable_chain (peer, outgoingCommand -> command.header.channelID, outgoingCommand -> reliableSequenceNumber)];

         oldTable [chain] = outgoingCommand -> nextInTable;
         outgoingCommand -> nextInTable = * newChain;
         * newChain = outgoingCommand;
      }
   }

   if (oldTable != NULL)
     enet_free (oldTable);

   return 0;
}

/** Records a reliable command about to be sent for the first time; -1 if it cannot be (no
    memory for the table), in which case it must not be sent yet. */
int
enet_peer_track_sent_reliable_command (ENetPeer * peer, ENetOutgoingCommand * outgoingCommand)
{
   ENetOutgoingCommand ** chain;

   if (peer -> sentReliableTableSize == 0)
   {
      if (enet_peer_resize_sent_reliable_table (peer, ENET_PEER_SENT_TABLE_MINIMUM_SIZE) < 0)
        return -1;
   }
   else
   if (peer -> sentReliableCount >= peer -> sentReliableTableSize)
     enet_peer_resize_sent_reliable_table (peer, peer -> sentReliableTableSize * 2);

   chain = & peer -> sentReliableTable [enet_peer_sent_reliable_chain (peer, outgoingCommand -> command.header.channelID, outgoingCommand -> reliableSequenceNumber)];
   outgoingCommand -> nextInTable = * chain;
   * chain = outgoingCommand;

   ++ peer -> sentReliableCount;

   return 0;
}

ENetOutgoingCommand *
enet_peer_find_sent_reliable_command (ENetPeer * peer, enet_uint16 reliableSequenceNumber, enet_uint8 channelID)
{
   ENetOutgoingCommand * outgoingCommand;

   if (peer -> sentReliableTableSize == 0)
     return NULL;

   for (outgoingCommand = peer -> sentReliableTable [enet_peer_sent_reliable_chain (peer, channelID, reliableSequenceNumber)];
        outgoingCommand != NULL;
        outgoingCommand = outgoingCommand -> nextInTable)
   {
      if (outgoingCommand -> reliableSequenceNumber == reliableSequenceNumber &&
          outgoingCommand -> command.header.channelID == channelID)
        return outgoingCommand;
   }

   return NULL;
}

void
enet_peer_untrack_sent_reliable_command (ENetPeer * peer, ENetOutgoingCommand * outgoingCommand)
{
   ENetOutgoingCommand ** chain = & peer -> sentReliableTable [enet_peer_sent_reliable_chain (peer, outgoingCommand -> command.header.channelID, outgoingCommand -> reliableSequenceNumber)];

   while (* chain != outgoingCommand)
     chain = & (* chain) -> nextInTable;

   * chain = outgoingCommand -> nextInTable;

   -- peer -> sentReliableCount;
}

void
enet_peer_setup_outgoing_command (ENetPeer * peer, ENetOutgoingCommand * outgoingCommand)
{
    peer -> outgoingDataTotal += enet_protocol_command_size (outgoingCommand -> command.header.command) + outgoingCommand -> fragmentLength;

    if (outgoingCommand -> command.header.channelID == 0xFF)
    {
       ++ peer -> outgoingReliableSequenceNumber;

       outgoingCommand -> reliableSequenceNumber = peer -> outgoingReliableSequenceNumber;
       outgoingCommand -> unreliableSequenceNumber = 0;
    }
    else
    {
        ENetChannel * channel = & peer -> channels [outgoingCommand -> command.header.channelID];

        if (outgoingCommand -> command.header.command & ENET_PROTOCOL_COMMAND_FLAG_ACKNOWLEDGE)
        {
           ++ channel -> outgoingReliableSequenceNumber;
           channel -> outgoingUnreliableSequenceNumber = 0;

           outgoingCommand -> reliableSequenceNumber = channel -> outgoingReliableSequenceNumber;
           outgoingCommand -> unreliableSequenceNumber = 0;
        }
        else
        if (outgoingCommand -> command.header.command & ENET_PROTOCOL_COMMAND_FLAG_UNSEQUENCED)
        {
           ++ peer -> outgoingUnsequencedGroup;

           outgoingCommand -> reliableSequenceNumber = 0;
           outgoingCommand -> unreliableSequenceNumber = 0;
        }
        else
        {
           if (outgoingCommand -> fragmentOffset == 0)
             ++ channel -> outgoingUnreliableSequenceNumber;

           outgoingCommand -> reliableSequenceNumber = channel -> outgoingReliableSequenceNumber;
           outgoingCommand -> unreliableSequenceNumber = channel -> outgoingUnreliableSequenceNumber;
        }
    }

    outgoingCommand -> sendAttempts = 0;
    outgoingCommand -> sentTime = 0;
    outgoingCommand -> roundTripTimeout = 0;
    outgoingCommand -> nextInTable = NULL;
    outgoingCommand -> inTransit = 0;
    outgoingCommand -> command.header.reliableSequenceNumber = ENET_HOST_TO_NET_16 (outgoingCommand -> reliableSequenceNumber);
    outgoingCommand -> queueTime = ++ peer -> host -> totalQueued;

    switch (outgoingCommand -> command.header.command & ENET_PROTOCOL_COMMAND_MASK)
    {
    case ENET_PROTOCOL_COMMAND_SEND_UNRELIABLE:
        outgoingCommand -> command.sendUnreliable.unreliableSequenceNumber = ENET_HOST_TO_NET_16 (outgoingCommand -> unreliableSequenceNumber);
        break;

    case ENET_PROTOCOL_COMMAND_SEND_UNSEQUENCED:
        outgoingCommand -> command.sendUnsequenced.unsequencedGroup = ENET_HOST_TO_NET_16 (peer -> outgoingUnsequencedGroup);
        break;

    default:
        break;
    }

    if ((outgoingCommand -> command.header.command & ENET_PROTOCOL_COMMAND_FLAG_ACKNOWLEDGE) != 0 &&
        outgoingCommand -> packet != NULL)
      enet_list_insert (enet_list_end (& peer -> outgoingSendReliableCommands), outgoingCommand);
    else
      enet_list_insert (enet_list_end (& peer -> outgoingCommands), outgoingCommand);

    enet_host_mark_busy (peer -> host, peer);
}

ENetOutgoingCommand *
enet_peer_queue_outgoing_command (ENetPeer * peer, const ENetProtocol * command, ENetPacket * packet, enet_uint32 offset, enet_uint16 length)
{
    ENetOutgoingCommand * outgoingCommand = (ENetOutgoingCommand *) enet_malloc (sizeof (ENetOutgoingCommand));
    if (outgoingCommand == NULL)
      return NULL;

    outgoingCommand -> command = * command;
    outgoingCommand -> fragmentOffset = offset;
    outgoingCommand -> fragmentLength = length;
    outgoingCommand -> packet = packet;
    if (packet != NULL)
      ++ packet -> referenceCount;

    enet_peer_setup_outgoing_command (peer, outgoingCommand);

    return outgoingCommand;
}

void
enet_peer_dispatch_incoming_unreliable_commands (ENetPeer * peer, ENetChannel * channel, ENetIncomingCommand * queuedCommand)
{
    ENetListIterator droppedCommand, startCommand, currentCommand;

    for (droppedCommand = startCommand = currentCommand = enet_list_begin (& channel -> incomingUnreliableCommands);
         currentCommand != enet_list_end (& channel -> incomingUnreliableCommands);
         currentCommand = enet_list_next (currentCommand))
    {
       ENetIncomingCommand * incomingCommand = (ENetIncomingCommand *) currentCommand;

       if ((incomingCommand -> command.header.command & ENET_PROTOCOL_COMMAND_MASK) == ENET_PROTOCOL_COMMAND_SEND_UNSEQUENCED)
         continue;

       if (incomingCommand -> reliableSequenceNumber == channel -> incomingReliableSequenceNumber)
       {
          if (incomingCommand -> fragmentsRemaining <= 0)
          {
             channel -> incomingUnreliableSequenceNumber = incomingCommand -> unreliableSequenceNumber;
             continue;
          }

          if (startCommand != currentCommand)
          {
             enet_list_move (enet_list_end (& peer -> dispatchedCommands), startCommand, enet_list_previous (currentCommand));

             if (! (peer -> flags & ENET_PEER_FLAG_NEEDS_DISPATCH))
             {
                enet_list_insert (enet_list_end (& peer -> host -> dispatchQueue), & peer -> dispatchList);

                peer -> flags |= ENET_PEER_FLAG_NEEDS_DISPATCH;
             }

             droppedCommand = currentCommand;
          }
          else
          if (droppedCommand != currentCommand)
            droppedCommand = enet_list_previous (currentCommand);
       }
       else 
       {
          enet_uint16 reliableWindow = incomingCommand -> reliableSequenceNumber / ENET_PEER_RELIABLE_WINDOW_SIZE,
                      currentWindow = channel -> incomingReliableSequenceNumber / ENET_PEER_RELIABLE_WINDOW_SIZE;
          if (incomingCommand -> reliableSequenceNumber < channel -> incomingReliableSequenceNumber)
            reliableWindow += ENET_PEER_RELIABLE_WINDOWS;
          if (reliableWindow >= currentWindow && reliableWindow < currentWindow + ENET_PEER_FREE_RELIABLE_WINDOWS - 1)
            break;

          droppedCommand = enet_list_next (currentCommand);

          if (startCommand != currentCommand)
          {
             enet_list_move (enet_list_end (& peer -> dispatchedCommands), startCommand, enet_list_previous (currentCommand));

             if (! (peer -> flags & ENET_PEER_FLAG_NEEDS_DISPATCH))
             {
                enet_list_insert (enet_list_end (& peer -> host -> dispatchQueue), & peer -> dispatchList);

                peer -> flags |= ENET_PEER_FLAG_NEEDS_DISPATCH;
             }
          }
       }
          
       startCommand = enet_list_next (currentCommand);
    }

    if (startCommand != currentCommand)
    {
       enet_list_move (enet_list_end (& peer -> dispatchedCommands), startCommand, enet_list_previous (currentCommand));

       if (! (peer -> flags & ENET_PEER_FLAG_NEEDS_DISPATCH))
       {
           enet_list_insert (enet_list_end (& peer -> host -> dispatchQueue), & peer -> dispatchList);

           peer -> flags |= ENET_PEER_FLAG_NEEDS_DISPATCH;
       }

       droppedCommand = currentCommand;
    }

    enet_peer_remove_incoming_commands (peer, & channel -> incomingUnreliableCommands, enet_list_begin (& channel -> incomingUnreliableCommands), droppedCommand, queuedCommand);
}

void
enet_peer_dispatch_incoming_reliable_commands (ENetPeer * peer, ENetChannel * channel, ENetIncomingCommand * queuedCommand)
{
    ENetIncomingCommand * incomingCommand;
    int dispatched = 0;

    for (;;)
    {
       incomingCommand = enet_peer_find_incoming_reliable_command (channel, (enet_uint16) (channel -> incomingReliableSequenceNumber + 1));
       if (incomingCommand == NULL || incomingCommand -> fragmentsRemaining > 0)
         break;

       channel -> incomingReliableSequenceNumber = incomingCommand -> reliableSequenceNumber;

       enet_peer_unhold_reliable_command (peer, channel, incomingCommand);
       enet_list_insert (enet_list_end (& peer -> dispatchedCommands), incomingCommand);
       dispatched = 1;

       if (incomingCommand -> fragmentCount > 0)
       {
          channel -> incomingReliableSequenceNumber += incomingCommand -> fragmentCount - 1;

          enet_peer_drop_skipped_reliable_commands (peer, channel, incomingCommand -> reliableSequenceNumber, incomingCommand -> fragmentCount - 1);
       }
    } 

    if (! dispatched)
      return;

    channel -> incomingUnreliableSequenceNumber = 0;

    if (! (peer -> flags & ENET_PEER_FLAG_NEEDS_DISPATCH))
    {
       enet_list_insert (enet_list_end (& peer -> host -> dispatchQueue), & peer -> dispatchList);

       peer -> flags |= ENET_PEER_FLAG_NEEDS_DISPATCH;
    }

    if (! enet_list_empty (& channel -> incomingUnreliableCommands))
       enet_peer_dispatch_incoming_unreliable_commands (peer, channel, queuedCommand);
}

ENetIncomingCommand *
enet_peer_queue_incoming_command (ENetPeer * peer, const ENetProtocol * command, const void * data, size_t dataLength, enet_uint32 flags, enet_uint32 fragmentCount)
{
    static ENetIncomingCommand dummyCommand;

    ENetChannel * channel = & peer -> channels [command -> header.channelID];
    enet_uint32 unreliableSequenceNumber = 0, reliableSequenceNumber = 0;
    enet_uint16 reliableWindow, currentWindow;
    ENetIncomingCommand * incomingCommand;
    ENetListIterator currentCommand;
    ENetPacket * packet = NULL;
    size_t waitingData, tableSize = 0, reordered;

    if (peer -> state == ENET_PEER_STATE_DISCONNECT_LATER)
      goto discardCommand;

    if ((command -> header.command & ENET_PROTOCOL_COMMAND_MASK) != ENET_PROTOCOL_COMMAND_SEND_UNSEQUENCED)
    {
        reliableSequenceNumber = command -> header.reliableSequenceNumber;
        reliableWindow = reliableSequenceNumber / ENET_PEER_RELIABLE_WINDOW_SIZE;
        currentWindow = channel -> incomingReliableSequenceNumber / ENET_PEER_RELIABLE_WINDOW_SIZE;

        if (reliableSequenceNumber < channel -> incomingReliableSequenceNumber)
           reliableWindow += ENET_PEER_RELIABLE_WINDOWS;

        if (reliableWindow < currentWindow || reliableWindow >= currentWindow + ENET_PEER_FREE_RELIABLE_WINDOWS - 1)
          goto discardCommand;
    }
                    
    switch (command -> header.command & ENET_PROTOCOL_COMMAND_MASK)
    {
    case ENET_PROTOCOL_COMMAND_SEND_FRAGMENT:
    case ENET_PROTOCOL_COMMAND_SEND_RELIABLE:
       if (reliableSequenceNumber == channel -> incomingReliableSequenceNumber ||
           enet_peer_find_incoming_reliable_command (channel, reliableSequenceNumber) != NULL)
         goto discardCommand;

       if (channel -> incomingReliableTable == NULL &&
           channel -> incomingReliableCount >= ENET_PEER_RELIABLE_TABLE_THRESHOLD)
         tableSize = enet_peer_reliable_table_size ();
       break;

    case ENET_PROTOCOL_COMMAND_SEND_UNRELIABLE:
    case ENET_PROTOCOL_COMMAND_SEND_UNRELIABLE_FRAGMENT:
       unreliableSequenceNumber = ENET_NET_TO_HOST_16 (command -> sendUnreliable.unreliableSequenceNumber);

       if (reliableSequenceNumber == channel -> incomingReliableSequenceNumber && 
           unreliableSequenceNumber <= channel -> incomingUnreliableSequenceNumber)
         goto discardCommand;

       for (currentCommand = enet_list_previous (enet_list_end (& channel -> incomingUnreliableCommands)), reordered = 0;
            currentCommand != enet_list_end (& channel -> incomingUnreliableCommands);
            currentCommand = enet_list_previous (currentCommand))
       {
          incomingCommand = (ENetIncomingCommand *) currentCommand;

          /* Unreliable data may be dropped: one that would sort before more held commands than
             a reordered datagram or two carries is, rather than walked past all of them. */
          if (++ reordered > ENET_PEER_UNRELIABLE_REORDER_LIMIT)
            goto discardCommand;

          if ((command -> header.command & ENET_PROTOCOL_COMMAND_MASK) == ENET_PROTOCOL_COMMAND_SEND_UNSEQUENCED)
            continue;

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

          if (incomingCommand -> unreliableSequenceNumber <= unreliableSequenceNumber)
          {
             if (incomingCommand -> unreliableSequenceNumber < unreliableSequenceNumber)
               break;

             goto discardCommand;
          }
       }
       break;

    case ENET_PROTOCOL_COMMAND_SEND_UNSEQUENCED:
       currentCommand = enet_list_end (& channel -> incomingUnreliableCommands);
       break;

    default:
       goto discardCommand;
    }

    /* A reassembly claims its whole total length as soon as its first fragment arrives, however
       little of it the sender then fills in, so the claim is what counts. */
    waitingData = enet_peer_waiting_data_size (dataLength, fragmentCount);
    if (! enet_peer_may_hold (peer, waitingData + tableSize))
    {
       /* Local patch 0043: held past the limits without the channel's table. */
       if (! enet_peer_may_hold_next (peer, channel, command, waitingData, fragmentCount))
         goto notifyError;

       tableSize = 0;
    }

    if (tableSize > 0)
    {
       if (enet_peer_create_reliable_table (channel) < 0)
         goto notifyError;

       enet_peer_hold_waiting_data (peer, tableSize);
    }

    packet = enet_packet_create (data, dataLength, flags);
    if (packet == NULL)
      goto notifyError;

    incomingCommand = (ENetIncomingCommand *) enet_malloc (sizeof (ENetIncomingCommand));
    if (incomingCommand == NULL)
      goto notifyError;

    incomingCommand -> reliableSequenceNumber = command -> header.reliableSequenceNumber;
    incomingCommand -> unreliableSequenceNumber = unreliableSequenceNumber & 0xFFFF;
    incomingCommand -> command = * command;
    incomingCommand -> fragmentCount = fragmentCount;
    incomingCommand -> fragmentsRemaining = fragmentCount;
    incomingCommand -> packet = packet;
    incomingCommand -> fragments = NULL;
    incomingCommand -> nextInTable = NULL;
    
    if (fragmentCount > 0)
    { 
       if (fragmentCount <= ENET_PROTOCOL_MAXIMUM_FRAGMENT_COUNT)
         incomingCommand -> fragments = (enet_uint32 *) enet_malloc ((fragmentCount + 31) / 32 * sizeof (enet_uint32));
       if (incomingCommand -> fragments == NULL)
       {
          enet_free (incomingCommand);

          goto notifyError;
       }
       memset (incomingCommand -> fragments, 0, (fragmentCount + 31) / 32 * sizeof (enet_uint32));
    }

    if (packet != NULL)
    {
       ++ packet -> referenceCount;
      
       enet_peer_hold_waiting_data (peer, waitingData);
    }

    switch (command -> header.command & ENET_PROTOCOL_COMMAND_MASK)
    {
    case ENET_PROTOCOL_COMMAND_SEND_FRAGMENT:
    case ENET_PROTOCOL_COMMAND_SEND_RELIABLE:
       enet_peer_hold_reliable_command (channel, incomingCommand);
       enet_peer_dispatch_incoming_reliable_commands (peer, channel, incomingCommand);
       break;

    default:
       enet_list_insert (enet_list_next (currentCommand), incomingCommand);
       enet_peer_dispatch_incoming_unreliable_commands (peer, channel, incomingCommand);
       break;
    }

    return incomingCommand;

discardCommand:
    if (fragmentCount > 0)
      goto notifyError;

    if (packet != NULL && packet -> referenceCount == 0)
      enet_packet_destroy (packet);

    return & dummyCommand;

notifyError:
    if (packet != NULL && packet -> referenceCount == 0)
      enet_packet_destroy (packet);

    return NULL;
}

/** @} */
