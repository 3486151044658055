/** 
 @file host.c
 @brief ENet host management functions
*/
#define ENET_BUILDING_LIB 1
#include <string.h>
#include "enet/enet.h"

/** @defgroup host ENet host functions
    @{
*/

/** Creates a host for communicating to peers.  

    @param address   the address at which other peers may connect to this host.  If NULL, then no peers may connect to the host.
    @param peerCount the maximum number of peers that should be allocated for the host.
    @param channelLimit the maximum number of channels allowed; if 0, then this is equivalent to ENET_PROTOCOL_MAXIMUM_CHANNEL_COUNT
    @param incomingBandwidth downstream bandwidth of the host in bytes/second; if 0, ENet will assume unlimited bandwidth.
    @param outgoingBandwidth upstream bandwidth of the host in bytes/second; if 0, ENet will assume unlimited bandwidth.

    @returns the host on success and NULL on failure

    @remarks ENet will strategically drop packets on specific sides of a connection between hosts
    to ensure the host's bandwidth is not overwhelmed.  The bandwidth parameters also determine
    the window size of a connection which limits the amount of reliable packets that may be in transit
    at any given time.
*/
/* The families a host's socket should reach: no address or the any address (::) asks
   for a dual-stack socket, an IPv4 address for an IPv4 socket, any other for IPv6. */
static ENetAddressFamily
enet_host_address_family (const ENetAddress * address)
{
    static const enet_uint8 anyHost [16] = { 0 },
                            ipv4MappedPrefix [12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF };

    if (address == NULL || ! memcmp (address -> host, anyHost, sizeof (anyHost)))
      return ENET_ADDRESS_FAMILY_DUAL;

    if (! memcmp (address -> host, ipv4MappedPrefix, sizeof (ipv4MappedPrefix)))
      return ENET_ADDRESS_FAMILY_IPV4;

    return ENET_ADDRESS_FAMILY_IPV6;
}

static ENetSocket
enet_host_socket_create (const ENetAddress * address, ENetAddressFamily family)
{
    ENetSocket socket = enet_socket_create (ENET_SOCKET_TYPE_DATAGRAM, family);

    if (socket != ENET_SOCKET_NULL && address != NULL && enet_socket_bind (socket, family, address) < 0)
    {
        enet_socket_destroy (socket);

        return ENET_SOCKET_NULL;
    }

    return socket;
}

ENetHost *
enet_host_create (const ENetAddress * address, size_t peerCount, size_t channelLimit, enet_uint32 incomingBandwidth, enet_uint32 outgoingBandwidth)
{
    ENetHost * host;
    ENetPeer * currentPeer;

    if (peerCount > ENET_PROTOCOL_MAXIMUM_PEER_ID)
      return NULL;

    host = (ENetHost *) enet_malloc (sizeof (ENetHost));
    if (host == NULL)
      return NULL;
    memset (host, 0, sizeof (ENetHost));

    host -> peers = (ENetPeer *) enet_malloc (peerCount * sizeof (ENetPeer));
    if (host -> peers == NULL)
    {
       enet_free (host);

       return NULL;
    }
    memset (host -> peers, 0, peerCount * sizeof (ENetPeer));

    /* Local patch 0024: what a CONNECT needs to know about the slots without walking them. */
    host -> slotWords = (peerCount + 31) / 32;
    for (host -> endpointChainCount = 1; host -> endpointChainCount < peerCount; host -> endpointChainCount *= 2) ;
    host -> slotBits = (enet_uint32 *) enet_malloc ((4 * host -> slotWords + 1) * sizeof (enet_uint32));
    host -> endpointChains = (enet_uint32 *) enet_malloc (host -> endpointChainCount * sizeof (enet_uint32));
    if (host -> slotBits == NULL || host -> endpointChains == NULL)
    {
       enet_free (host -> slotBits);
       enet_free (host -> endpointChains);
       enet_free (host -> peers);
       enet_free (host);

       return NULL;
    }
    memset (host -> slotBits, 0, (4 * host -> slotWords + 1) * sizeof (enet_uint32));
    memset (host -> endpointChains, 0, host -> endpointChainCount * sizeof (enet_uint32));

    host -> addressFamily = enet_host_address_family (address);
    host -> socket = enet_host_socket_create (address, host -> addressFamily);
    if (host -> socket == ENET_SOCKET_NULL && host -> addressFamily == ENET_ADDRESS_FAMILY_DUAL)
    {
       /* No IPv6 or no dual stack here: an IPv4 socket, as ENet has always made. */
       host -> addressFamily = ENET_ADDRESS_FAMILY_IPV4;
       host -> socket = enet_host_socket_create (address, host -> addressFamily);
    }
    if (host -> socket == ENET_SOCKET_NULL)
    {
       enet_free (host -> slotBits);
       enet_free (host -> endpointChains);
       enet_free (host -> peers);
       enet_free (host);

       return NULL;
    }

    enet_socket_set_option (host -> socket, ENET_SOCKOPT_NONBLOCK, 1);
    enet_socket_set_option (host -> socket, ENET_SOCKOPT_BROADCAST, 1);
    enet_socket_set_option (host -> socket, ENET_SOCKOPT_RCVBUF, ENET_HOST_RECEIVE_BUFFER_SIZE);
    enet_socket_set_option (host -> socket, ENET_SOCKOPT_SNDBUF, ENET_HOST_SEND_BUFFER_SIZE);

    if (address != NULL && enet_socket_get_address (host -> socket, & host -> address) < 0)   
      host -> address = * address;

    if (! channelLimit || channelLimit > ENET_PROTOCOL_MAXIMUM_CHANNEL_COUNT)
      channelLimit = ENET_PROTOCOL_MAXIMUM_CHANNEL_COUNT;
    else
    if (channelLimit < ENET_PROTOCOL_MINIMUM_CHANNEL_COUNT)
      channelLimit = ENET_PROTOCOL_MINIMUM_CHANNEL_COUNT;

    host -> randomSeed = (enet_uint32) (size_t) host;
    host -> randomSeed += enet_host_random_seed ();
    host -> randomSeed = (host -> randomSeed << 16) | (host -> randomSeed >> 16);
    host -> connectDefence = 1;
    host -> connectRecords = NULL;
    host -> connectRecordChains = NULL;
    host -> connectRecordLimit = ENET_HOST_DEFAULT_CONNECT_RECORD_LIMIT;
    host -> connectRecordHead = 0;
    host -> connectRecordCount = 0;
    host -> connectRecordSwept = 0;
    host -> connectRecordSlot = 0;
    host -> connectTimeout = ENET_HOST_DEFAULT_CONNECT_TIMEOUT;
    host -> connectGuessWindow = 0;
    host -> connectGuesses = 0;
    host -> connectGuessesBefore = 0;
    host -> receivedWireLength = 0;
    enet_host_random_secret (host -> connectSecret, sizeof (host -> connectSecret) / sizeof (enet_uint32));
    host -> connectSecret [0] ^= host -> randomSeed;
    host -> connectsAnswered = 0;
    host -> connectRecordsEvicted = 0;
    host -> connectRecordsExpired = 0;
    host -> connectsCompleted = 0;
    host -> connectsDropped = 0;
    host -> nextFullSendPass = 0;
    host -> lastFullSendPass = 0;
    host -> channelLimit = channelLimit;
    host -> incomingBandwidth = incomingBandwidth;
    host -> outgoingBandwidth = outgoingBandwidth;
    host -> bandwidthThrottleEpoch = 0;
    host -> recalculateBandwidthLimits = 0;
    host -> mtu = ENET_HOST_DEFAULT_MTU;
    host -> peerCount = peerCount;
    host -> commandCount = 0;
    host -> bufferCount = 0;
    host -> checksum = NULL;
    memset (& host -> receivedAddress, 0, sizeof (host -> receivedAddress));
    host -> receivedData = NULL;
    host -> receivedDataLength = 0;
     
    host -> totalSentData = 0;
    host -> totalSentPackets = 0;
    host -> totalReceivedData = 0;
    host -> totalReceivedPackets = 0;
    host -> totalQueued = 0;

    host -> connectedPeers = 0;
    host -> bandwidthLimitedPeers = 0;
    host -> duplicatePeers = ENET_PROTOCOL_MAXIMUM_PEER_ID;
    host -> maximumPacketSize = ENET_HOST_DEFAULT_MAXIMUM_PACKET_SIZE;
    host -> maximumWaitingData = ENET_HOST_DEFAULT_MAXIMUM_WAITING_DATA;
    host -> totalWaitingData = 0;
    host -> maximumAddressWaitingData = ENET_HOST_DEFAULT_MAXIMUM_ADDRESS_WAITING_DATA;
    host -> maximumHostWaitingData = ENET_HOST_DEFAULT_MAXIMUM_HOST_WAITING_DATA;
    host -> receivedAddressWaitingData = (size_t) -1;

    host -> compressor.context = NULL;
    host -> compressor.compress = NULL;
    host -> compressor.decompress = NULL;
    host -> compressor.destroy = NULL;

    host -> intercept = NULL;

    enet_list_clear (& host -> dispatchQueue);

    for (currentPeer = host -> peers;
         currentPeer < & host -> peers [host -> peerCount];
         ++ currentPeer)
    {
       currentPeer -> host = host;
       currentPeer -> disconnectReason = ENET_DISCONNECT_REASON_NONE;
       currentPeer -> incomingPeerID = currentPeer - host -> peers;
       currentPeer -> outgoingSessionID = currentPeer -> incomingSessionID = 0xFF;
       currentPeer -> offeredOutgoingSessionID = currentPeer -> offeredIncomingSessionID = 0xFF;
       currentPeer -> data = NULL;

       enet_list_clear (& currentPeer -> acknowledgements);
       enet_list_clear (& currentPeer -> sentReliableCommands);
       enet_list_clear (& currentPeer -> outgoingCommands);
       enet_list_clear (& currentPeer -> outgoingSendReliableCommands);
       enet_list_clear (& currentPeer -> dispatchedCommands);

       enet_peer_reset (currentPeer);
    }

    return host;
}

#define ENET_SIP_ROTATE(x, b) (((x) << (b)) | ((x) >> (64 - (b))))
#define ENET_SIP_ROUND \
    do { \
      v0 += v1; v1 = ENET_SIP_ROTATE (v1, 13); v1 ^= v0; v0 = ENET_SIP_ROTATE (v0, 32); \
      v2 += v3; v3 = ENET_SIP_ROTATE (v3, 16); v3 ^= v2; \
      v0 += v3; v3 = ENET_SIP_ROTATE (v3, 21); v3 ^= v0; \
      v2 += v1; v1 = ENET_SIP_ROTATE (v1, 17); v1 ^= v2; v2 = ENET_SIP_ROTATE (v2, 32); \
    } while (0)

/** Local patch (the handshake under a flood, PATCHES.md): SipHash-1-3 of two 64-bit words under
    the host's secret, for the random sent times of VERIFY_CONNECT (of a counter) and the hash
    tables the handshake keeps (of an address), which an attacker can neither predict nor aim at.
*/
unsigned long long
enet_host_hash (const ENetHost * host, unsigned long long a, unsigned long long b)
{
    unsigned long long k0 = ((unsigned long long) host -> connectSecret [0] << 32) | host -> connectSecret [1],
                       k1 = ((unsigned long long) host -> connectSecret [2] << 32) | host -> connectSecret [3],
                       v0 = k0 ^ 0x736f6d6570736575ULL, v1 = k1 ^ 0x646f72616e646f6dULL,
                       v2 = k0 ^ 0x6c7967656e657261ULL, v3 = k1 ^ 0x7465646279746573ULL;

    v3 ^= a; ENET_SIP_ROUND; v0 ^= a;
    v3 ^= b; ENET_SIP_ROUND; v0 ^= b;
    v3 ^= 16ULL << 56; ENET_SIP_ROUND; v0 ^= 16ULL << 56;
    v2 ^= 0xFF;
    ENET_SIP_ROUND; ENET_SIP_ROUND; ENET_SIP_ROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}

/** Local patch: keeps the host's bitmaps of its slots up to date for one peer: free, free and
    reserved by a connection record, and unverified (half-open, its handshake not echoed yet).
    Called wherever one of those changes, so that a CONNECT finds a slot without walking them.
*/
void
enet_host_sync_slot (ENetHost * host, ENetPeer * peer)
{
    size_t word = peer -> incomingPeerID / 32;
    enet_uint32 bit = 1u << (peer -> incomingPeerID % 32),
                * freeBits = host -> slotBits,
                * reservedBits = & host -> slotBits [host -> slotWords],
                * unverifiedBits = & host -> slotBits [2 * host -> slotWords];
    int isFree = peer -> state == ENET_PEER_STATE_DISCONNECTED;

    freeBits [word] = isFree ? freeBits [word] | bit : freeBits [word] & ~ bit;
    reservedBits [word] = isFree && peer -> connectReservation != 0 ? reservedBits [word] | bit : reservedBits [word] & ~ bit;
    unverifiedBits [word] = peer -> state == ENET_PEER_STATE_ACKNOWLEDGING_CONNECT && (peer -> flags & ENET_PEER_FLAG_UNVERIFIED) ?
                              unverifiedBits [word] | bit : unverifiedBits [word] & ~ bit;
    /* Local patch 0038: a peer whose slot changed gets a visit from the next send pass, which
       marks it idle and tells the host when its first ping falls due (a verified handshake can
       bring a peer into use with nothing queued for it). */
    if (! isFree)
      enet_host_mark_busy (host, peer);
}

/** Local patch 0038: marks a peer busy (something queued for it to send, or a timer of its own to
    check), so that every send pass visits it until a visit finds it idle; the pass visits idle
    peers only when a ping falls due (host -> nextFullSendPass).
*/
void
enet_host_mark_busy (ENetHost * host, ENetPeer * peer)
{
    host -> slotBits [3 * host -> slotWords + peer -> incomingPeerID / 32] |= 1u << (peer -> incomingPeerID % 32);
}

/** Local patch: the chain of host -> endpointChains that holds an address and port's peers. */
enet_uint32
enet_host_endpoint_chain (ENetHost * host, const ENetAddress * address)
{
    unsigned long long a, b;

    memcpy (& a, address -> host, sizeof (a));
    memcpy (& b, address -> host + sizeof (a), sizeof (b));
    b ^= ((unsigned long long) address -> port << 48) ^ 0x656e64ULL;
    return (enet_uint32) (enet_host_hash (host, a, b) & (host -> endpointChainCount - 1));
}

/** Local patch: puts a peer in use into the host's index of peers by address and port (or
    moves it there when its address changed), so that the peers of one endpoint are found
    without walking the slots. */
void
enet_host_index_peer (ENetHost * host, ENetPeer * peer)
{
    if (peer -> flags & ENET_PEER_FLAG_INDEXED)
      enet_host_unindex_peer (host, peer);

    peer -> endpointChain = enet_host_endpoint_chain (host, & peer -> address);
    peer -> endpointNext = host -> endpointChains [peer -> endpointChain];
    host -> endpointChains [peer -> endpointChain] = (enet_uint32) (peer - host -> peers) + 1;
    peer -> flags |= ENET_PEER_FLAG_INDEXED;
}

void
enet_host_unindex_peer (ENetHost * host, ENetPeer * peer)
{
    enet_uint32 * link = & host -> endpointChains [peer -> endpointChain],
                index = (enet_uint32) (peer - host -> peers) + 1;

    if (! (peer -> flags & ENET_PEER_FLAG_INDEXED))
      return;
    while (* link != 0)
    {
       if (* link == index)
       {
          * link = peer -> endpointNext;
          break;
       }
       link = & host -> peers [* link - 1].endpointNext;
    }
    peer -> endpointNext = 0;
    peer -> flags &= ~ ENET_PEER_FLAG_INDEXED;
}

/** Destroys the host and all resources associated with it.
    @param host pointer to the host to destroy
*/
void
enet_host_destroy (ENetHost * host)
{
    ENetPeer * currentPeer;

    if (host == NULL)
      return;

    enet_socket_destroy (host -> socket);

    for (currentPeer = host -> peers;
         currentPeer < & host -> peers [host -> peerCount];
         ++ currentPeer)
    {
       enet_peer_reset (currentPeer);
    }

    if (host -> compressor.context != NULL && host -> compressor.destroy)
      (* host -> compressor.destroy) (host -> compressor.context);

    if (host -> connectRecords != NULL)
      enet_free (host -> connectRecords);
    if (host -> connectRecordChains != NULL)
      enet_free (host -> connectRecordChains);
    enet_free (host -> endpointChains);
    enet_free (host -> slotBits);
    enet_free (host -> peers);
    enet_free (host);
}

enet_uint32
enet_host_random (ENetHost * host)
{
    /* Mulberry32 by Tommy Ettinger */
    enet_uint32 n = (host -> randomSeed += 0x6D2B79F5U);
    n = (n ^ (n >> 15)) * (n | 1U);
    n ^= n + (n ^ (n >> 7)) * (n | 61U);
    return n ^ (n >> 14);
}

/** Initiates a connection to a foreign host.
    @param host host seeking the connection
    @param address destination for the connection
    @param channelCount number of channels to allocate
    @param data user data supplied to the receiving host 
    @returns a peer representing the foreign host on success, NULL on failure
    @remarks The peer returned will have not completed the connection until enet_host_service()
    notifies of an ENET_EVENT_TYPE_CONNECT event for the peer.
*/
ENetPeer *
enet_host_connect (ENetHost * host, const ENetAddress * address, size_t channelCount, enet_uint32 data)
{
    ENetPeer * currentPeer;
    ENetChannel * channel;
    ENetProtocol command;

    if (channelCount < ENET_PROTOCOL_MINIMUM_CHANNEL_COUNT)
      channelCount = ENET_PROTOCOL_MINIMUM_CHANNEL_COUNT;
    else
    if (channelCount > ENET_PROTOCOL_MAXIMUM_CHANNEL_COUNT)
      channelCount = ENET_PROTOCOL_MAXIMUM_CHANNEL_COUNT;

    /* A free slot whose id no connection record reserves, and never one that the remote
       endpoint sends to already (local patch 0024): its datagrams for that id would reach this
       peer, which checks no session while connecting. */
    currentPeer = enet_host_free_slot (host, address);
    if (currentPeer == NULL)
      return NULL;

    currentPeer -> channels = (ENetChannel *) enet_malloc (channelCount * sizeof (ENetChannel));
    if (currentPeer -> channels == NULL)
      return NULL;
    currentPeer -> channelCount = channelCount;
    currentPeer -> state = ENET_PEER_STATE_CONNECTING;
    currentPeer -> address = * address;
    enet_host_index_peer (host, currentPeer);
    enet_host_sync_slot (host, currentPeer);
    currentPeer -> connectID = enet_host_random (host);
    currentPeer -> mtu = host -> mtu;

    if (host -> outgoingBandwidth == 0)
      currentPeer -> windowSize = ENET_PROTOCOL_MAXIMUM_WINDOW_SIZE;
    else
      currentPeer -> windowSize = (host -> outgoingBandwidth /
                                    ENET_PEER_WINDOW_SIZE_SCALE) * 
                                      ENET_PROTOCOL_MINIMUM_WINDOW_SIZE;

    if (currentPeer -> windowSize < ENET_PROTOCOL_MINIMUM_WINDOW_SIZE)
      currentPeer -> windowSize = ENET_PROTOCOL_MINIMUM_WINDOW_SIZE;
    else
    if (currentPeer -> windowSize > ENET_PROTOCOL_MAXIMUM_WINDOW_SIZE)
      currentPeer -> windowSize = ENET_PROTOCOL_MAXIMUM_WINDOW_SIZE;
         
    for (channel = currentPeer -> channels;
         channel < & currentPeer -> channels [channelCount];
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
        
    command.header.command = ENET_PROTOCOL_COMMAND_CONNECT | ENET_PROTOCOL_COMMAND_FLAG_ACKNOWLEDGE;
    command.header.channelID = 0xFF;
    command.connect.outgoingPeerID = ENET_HOST_TO_NET_16 (currentPeer -> incomingPeerID);
    command.connect.incomingSessionID = currentPeer -> incomingSessionID;
    command.connect.outgoingSessionID = currentPeer -> outgoingSessionID;
    command.connect.mtu = ENET_HOST_TO_NET_32 (currentPeer -> mtu);
    command.connect.windowSize = ENET_HOST_TO_NET_32 (currentPeer -> windowSize);
    command.connect.channelCount = ENET_HOST_TO_NET_32 (channelCount);
    command.connect.incomingBandwidth = ENET_HOST_TO_NET_32 (host -> incomingBandwidth);
    command.connect.outgoingBandwidth = ENET_HOST_TO_NET_32 (host -> outgoingBandwidth);
    command.connect.packetThrottleInterval = ENET_HOST_TO_NET_32 (currentPeer -> packetThrottleInterval);
    command.connect.packetThrottleAcceleration = ENET_HOST_TO_NET_32 (currentPeer -> packetThrottleAcceleration);
    command.connect.packetThrottleDeceleration = ENET_HOST_TO_NET_32 (currentPeer -> packetThrottleDeceleration);
    command.connect.connectID = currentPeer -> connectID;
    command.connect.data = ENET_HOST_TO_NET_32 (data);
 
    enet_peer_queue_outgoing_command (currentPeer, & command, NULL, 0, 0);

    return currentPeer;
}

/** Queues a packet to be sent to all peers associated with the host.
    @param host host on which to broadcast the packet
    @param channelID channel on which to broadcast
    @param packet packet to broadcast
*/
void
enet_host_broadcast (ENetHost * host, enet_uint8 channelID, ENetPacket * packet)
{
    ENetPeer * currentPeer;

    for (currentPeer = host -> peers;
         currentPeer < & host -> peers [host -> peerCount];
         ++ currentPeer)
    {
       if (currentPeer -> state != ENET_PEER_STATE_CONNECTED)
         continue;

       enet_peer_send (currentPeer, channelID, packet);
    }

    if (packet -> referenceCount == 0)
      enet_packet_destroy (packet);
}

/** Sets the packet compressor the host should use to compress and decompress packets.
    @param host host to enable or disable compression for
    @param compressor callbacks for for the packet compressor; if NULL, then compression is disabled
*/
void
enet_host_compress (ENetHost * host, const ENetCompressor * compressor)
{
    if (host -> compressor.context != NULL && host -> compressor.destroy)
      (* host -> compressor.destroy) (host -> compressor.context);

    if (compressor)
      host -> compressor = * compressor;
    else
      host -> compressor.context = NULL;
}

/** Limits the maximum allowed channels of future incoming connections.
    @param host host to limit
    @param channelLimit the maximum number of channels allowed; if 0, then this is equivalent to ENET_PROTOCOL_MAXIMUM_CHANNEL_COUNT
*/
void
enet_host_channel_limit (ENetHost * host, size_t channelLimit)
{
    if (! channelLimit || channelLimit > ENET_PROTOCOL_MAXIMUM_CHANNEL_COUNT)
      channelLimit = ENET_PROTOCOL_MAXIMUM_CHANNEL_COUNT;
    else
    if (channelLimit < ENET_PROTOCOL_MINIMUM_CHANNEL_COUNT)
      channelLimit = ENET_PROTOCOL_MINIMUM_CHANNEL_COUNT;

    host -> channelLimit = channelLimit;
}


/** Adjusts the bandwidth limits of a host.
    @param host host to adjust
    @param incomingBandwidth new incoming bandwidth
    @param outgoingBandwidth new outgoing bandwidth
    @remarks the incoming and outgoing bandwidth parameters are identical in function to those
    specified in enet_host_create().
*/
void
enet_host_bandwidth_limit (ENetHost * host, enet_uint32 incomingBandwidth, enet_uint32 outgoingBandwidth)
{
    host -> incomingBandwidth = incomingBandwidth;
    host -> outgoingBandwidth = outgoingBandwidth;
    host -> recalculateBandwidthLimits = 1;
}

void
enet_host_bandwidth_throttle (ENetHost * host)
{
    enet_uint32 timeCurrent = enet_time_get (),
           elapsedTime = timeCurrent - host -> bandwidthThrottleEpoch,
           peersRemaining = (enet_uint32) host -> connectedPeers,
           dataTotal = ~0,
           bandwidth = ~0,
           throttle = 0,
           bandwidthLimit = 0;
    int needsAdjustment = host -> bandwidthLimitedPeers > 0 ? 1 : 0;
    ENetPeer * peer;
    ENetProtocol command;

    if (elapsedTime < ENET_HOST_BANDWIDTH_THROTTLE_INTERVAL)
      return;

    host -> bandwidthThrottleEpoch = timeCurrent;

    if (peersRemaining == 0)
      return;

    if (host -> outgoingBandwidth != 0)
    {
        dataTotal = 0;
        bandwidth = (host -> outgoingBandwidth * elapsedTime) / 1000;

        for (peer = host -> peers;
             peer < & host -> peers [host -> peerCount];
            ++ peer)
        {
            if (peer -> state != ENET_PEER_STATE_CONNECTED && peer -> state != ENET_PEER_STATE_DISCONNECT_LATER)
              continue;

            dataTotal += peer -> outgoingDataTotal;
        }
    }

    while (peersRemaining > 0 && needsAdjustment != 0)
    {
        needsAdjustment = 0;
        
        if (dataTotal <= bandwidth)
          throttle = ENET_PEER_PACKET_THROTTLE_SCALE;
        else
          throttle = (bandwidth * ENET_PEER_PACKET_THROTTLE_SCALE) / dataTotal;

        for (peer = host -> peers;
             peer < & host -> peers [host -> peerCount];
             ++ peer)
        {
            enet_uint32 peerBandwidth;
            
            if ((peer -> state != ENET_PEER_STATE_CONNECTED && peer -> state != ENET_PEER_STATE_DISCONNECT_LATER) ||
                peer -> incomingBandwidth == 0 ||
                peer -> outgoingBandwidthThrottleEpoch == timeCurrent)
              continue;

            peerBandwidth = (peer -> incomingBandwidth * elapsedTime) / 1000;
            if ((throttle * peer -> outgoingDataTotal) / ENET_PEER_PACKET_THROTTLE_SCALE <= peerBandwidth)
              continue;

            peer -> packetThrottleLimit = (peerBandwidth * 
                                            ENET_PEER_PACKET_THROTTLE_SCALE) / peer -> outgoingDataTotal;
            
            if (peer -> packetThrottleLimit == 0)
              peer -> packetThrottleLimit = 1;
            
            if (peer -> packetThrottle > peer -> packetThrottleLimit)
              peer -> packetThrottle = peer -> packetThrottleLimit;

            peer -> outgoingBandwidthThrottleEpoch = timeCurrent;

            peer -> incomingDataTotal = 0;
            peer -> outgoingDataTotal = 0;

            needsAdjustment = 1;
            -- peersRemaining;
            bandwidth -= peerBandwidth;
            dataTotal -= peerBandwidth;
        }
    }

    if (peersRemaining > 0)
    {
        if (dataTotal <= bandwidth)
          throttle = ENET_PEER_PACKET_THROTTLE_SCALE;
        else
          throttle = (bandwidth * ENET_PEER_PACKET_THROTTLE_SCALE) / dataTotal;

        for (peer = host -> peers;
             peer < & host -> peers [host -> peerCount];
             ++ peer)
        {
            if ((peer -> state != ENET_PEER_STATE_CONNECTED && peer -> state != ENET_PEER_STATE_DISCONNECT_LATER) ||
                peer -> outgoingBandwidthThrottleEpoch == timeCurrent)
              continue;

            peer -> packetThrottleLimit = throttle;

            if (peer -> packetThrottle > peer -> packetThrottleLimit)
              peer -> packetThrottle = peer -> packetThrottleLimit;

            peer -> incomingDataTotal = 0;
            peer -> outgoingDataTotal = 0;
        }
    }

    if (host -> recalculateBandwidthLimits)
    {
       host -> recalculateBandwidthLimits = 0;

       peersRemaining = (enet_uint32) host -> connectedPeers;
       bandwidth = host -> incomingBandwidth;
       needsAdjustment = 1;

       if (bandwidth == 0)
         bandwidthLimit = 0;
       else
       while (peersRemaining > 0 && needsAdjustment != 0)
       {
           needsAdjustment = 0;
           bandwidthLimit = bandwidth / peersRemaining;

           for (peer = host -> peers;
                peer < & host -> peers [host -> peerCount];
                ++ peer)
           {
               if ((peer -> state != ENET_PEER_STATE_CONNECTED && peer -> state != ENET_PEER_STATE_DISCONNECT_LATER) ||
                   peer -> incomingBandwidthThrottleEpoch == timeCurrent)
                 continue;

               if (peer -> outgoingBandwidth > 0 &&
                   peer -> outgoingBandwidth >= bandwidthLimit)
                 continue;

               peer -> incomingBandwidthThrottleEpoch = timeCurrent;
 
               needsAdjustment = 1;
               -- peersRemaining;
               bandwidth -= peer -> outgoingBandwidth;
           }
       }

       for (peer = host -> peers;
            peer < & host -> peers [host -> peerCount];
            ++ peer)
       {
           if (peer -> state != ENET_PEER_STATE_CONNECTED && peer -> state != ENET_PEER_STATE_DISCONNECT_LATER)
             continue;

           command.header.command = ENET_PROTOCOL_COMMAND_BANDWIDTH_LIMIT | ENET_PROTOCOL_COMMAND_FLAG_ACKNOWLEDGE;
           command.header.channelID = 0xFF;
           command.bandwidthLimit.outgoingBandwidth = ENET_HOST_TO_NET_32 (host -> outgoingBandwidth);

           if (peer -> incomingBandwidthThrottleEpoch == timeCurrent)
             command.bandwidthLimit.incomingBandwidth = ENET_HOST_TO_NET_32 (peer -> outgoingBandwidth);
           else
             command.bandwidthLimit.incomingBandwidth = ENET_HOST_TO_NET_32 (bandwidthLimit);

           enet_peer_queue_outgoing_command (peer, & command, NULL, 0, 0);
       } 
    }
}
    
/** @} */
