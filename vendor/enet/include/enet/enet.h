/** 
 @file  enet.h
 @brief ENet public header file
*/
#ifndef __ENET_ENET_H__
#define __ENET_ENET_H__

#include <stdlib.h>

#ifdef _WIN32
#include "enet/win32.h"
#else
#include "enet/unix.h"
#endif

#include "enet/types.h"
#include "enet/protocol.h"
#include "enet/list.h"
#include "enet/callbacks.h"

#define ENET_VERSION_MAJOR 1
#define ENET_VERSION_MINOR 3
#define ENET_VERSION_PATCH 18
#define ENET_VERSION_CREATE(major, minor, patch) (((major)<<16) | ((minor)<<8) | (patch))
#define ENET_VERSION_GET_MAJOR(version) (((version)>>16)&0xFF)
#define ENET_VERSION_GET_MINOR(version) (((version)>>8)&0xFF)
#define ENET_VERSION_GET_PATCH(version) ((version)&0xFF)
#define ENET_VERSION ENET_VERSION_CREATE(ENET_VERSION_MAJOR, ENET_VERSION_MINOR, ENET_VERSION_PATCH)

typedef enet_uint32 ENetVersion;

struct _ENetHost;
struct _ENetEvent;
struct _ENetPacket;

typedef enum _ENetSocketType
{
   ENET_SOCKET_TYPE_STREAM   = 1,
   ENET_SOCKET_TYPE_DATAGRAM = 2
} ENetSocketType;

typedef enum _ENetSocketWait
{
   ENET_SOCKET_WAIT_NONE      = 0,
   ENET_SOCKET_WAIT_SEND      = (1 << 0),
   ENET_SOCKET_WAIT_RECEIVE   = (1 << 1),
   ENET_SOCKET_WAIT_INTERRUPT = (1 << 2)
} ENetSocketWait;

typedef enum _ENetSocketOption
{
   ENET_SOCKOPT_NONBLOCK  = 1,
   ENET_SOCKOPT_BROADCAST = 2,
   ENET_SOCKOPT_RCVBUF    = 3,
   ENET_SOCKOPT_SNDBUF    = 4,
   ENET_SOCKOPT_REUSEADDR = 5,
   ENET_SOCKOPT_RCVTIMEO  = 6,
   ENET_SOCKOPT_SNDTIMEO  = 7,
   ENET_SOCKOPT_ERROR     = 8,
   ENET_SOCKOPT_NODELAY   = 9,
   ENET_SOCKOPT_TTL       = 10
} ENetSocketOption;

typedef enum _ENetSocketShutdown
{
    ENET_SOCKET_SHUTDOWN_READ       = 0,
    ENET_SOCKET_SHUTDOWN_WRITE      = 1,
    ENET_SOCKET_SHUTDOWN_READ_WRITE = 2
} ENetSocketShutdown;

#define ENET_PORT_ANY       0

/**
 * The address families a socket reaches. An IPV4 socket is an AF_INET one. An
 * IPV6 socket is an AF_INET6 one with IPV6_V6ONLY set. A DUAL socket is an AF_INET6
 * one with IPV6_V6ONLY cleared, which reaches IPv4 peers too, through their
 * IPv4-mapped addresses.
 */
typedef enum _ENetAddressFamily
{
   ENET_ADDRESS_FAMILY_IPV4 = (1 << 0),
   ENET_ADDRESS_FAMILY_IPV6 = (1 << 1),
   ENET_ADDRESS_FAMILY_DUAL = ENET_ADDRESS_FAMILY_IPV4 | ENET_ADDRESS_FAMILY_IPV6
} ENetAddressFamily;

/**
 * Portable internet address structure. 
 *
 * The host is an IPv6 address in network byte-order, and the port must be in host 
 * byte-order. An IPv4 address a.b.c.d is held as the IPv4-mapped IPv6 address
 * ::ffff:a.b.c.d. A host of all zeros (::) is the default server host, any local
 * address. The IPv4 broadcast address ::ffff:255.255.255.255 makes sense for
 * enet_host_connect, but not for enet_host_create.  Once a server responds to a
 * broadcast, the address is updated from the broadcast address to the server's
 * actual IP address. The scope ID is the interface index of a link-local IPv6
 * address (0 otherwise); it is not part of the comparisons ENet makes.
 */
typedef struct _ENetAddress
{
   enet_uint8  host [16];
   enet_uint16 port;
   enet_uint32 scopeID;
} ENetAddress;

/**
 * Packet flag bit constants.
 *
 * The host must be specified in network byte-order, and the port must be in
 * host byte-order. The constant ENET_HOST_ANY may be used to specify the
 * default server host.
 
   @sa ENetPacket
*/
typedef enum _ENetPacketFlag
{
   /** packet must be received by the target peer and resend attempts should be
     * made until the packet is delivered */
   ENET_PACKET_FLAG_RELIABLE    = (1 << 0),
   /** packet will not be sequenced with other packets
     */
   ENET_PACKET_FLAG_UNSEQUENCED = (1 << 1),
   /** packet will not allocate data, and user must supply it instead */
   ENET_PACKET_FLAG_NO_ALLOCATE = (1 << 2),
   /** packet will be fragmented using unreliable (instead of reliable) sends
     * if it exceeds the MTU */
   ENET_PACKET_FLAG_UNRELIABLE_FRAGMENT = (1 << 3),

   /** whether the packet has been sent from all queues it has been entered into */
   ENET_PACKET_FLAG_SENT = (1<<8)
} ENetPacketFlag;

typedef void (ENET_CALLBACK * ENetPacketFreeCallback) (struct _ENetPacket *);

/**
 * ENet packet structure.
 *
 * An ENet data packet that may be sent to or received from a peer. The shown 
 * fields should only be read and never modified. The data field contains the 
 * allocated data for the packet. The dataLength fields specifies the length 
 * of the allocated data.  The flags field is either 0 (specifying no flags), 
 * or a bitwise-or of any combination of the following flags:
 *
 *    ENET_PACKET_FLAG_RELIABLE - packet must be received by the target peer
 *    and resend attempts should be made until the packet is delivered
 *
 *    ENET_PACKET_FLAG_UNSEQUENCED - packet will not be sequenced with other packets 
 *    (not supported for reliable packets)
 *
 *    ENET_PACKET_FLAG_NO_ALLOCATE - packet will not allocate data, and user must supply it instead
 *
 *    ENET_PACKET_FLAG_UNRELIABLE_FRAGMENT - packet will be fragmented using unreliable
 *    (instead of reliable) sends if it exceeds the MTU
 *
 *    ENET_PACKET_FLAG_SENT - whether the packet has been sent from all queues it has been entered into
   @sa ENetPacketFlag
 */
typedef struct _ENetPacket
{
   size_t                   referenceCount;  /**< internal use only */
   enet_uint32              flags;           /**< bitwise-or of ENetPacketFlag constants */
   enet_uint8 *             data;            /**< allocated data for packet */
   size_t                   dataLength;      /**< length of data */
   ENetPacketFreeCallback   freeCallback;    /**< function to be called when the packet is no longer in use */
   void *                   userData;        /**< application private data, may be freely modified */
} ENetPacket;

typedef struct _ENetAcknowledgement
{
   ENetListNode acknowledgementList;
   enet_uint32  sentTime;
   ENetProtocol command;
} ENetAcknowledgement;

typedef struct _ENetOutgoingCommand
{
   ENetListNode outgoingCommandList;
   enet_uint16  reliableSequenceNumber;
   enet_uint16  unreliableSequenceNumber;
   enet_uint32  sentTime;
   enet_uint32  roundTripTimeout;
   enet_uint32  queueTime;
   enet_uint32  fragmentOffset;
   enet_uint16  fragmentLength;
   enet_uint16  sendAttempts;
   ENetProtocol command;
   ENetPacket * packet;
   struct _ENetOutgoingCommand * nextInTable; /**< local patch: the next command in its chain of the peer's sentReliableTable */
   int          inTransit;    /**< local patch: on sentReliableCommands (not waiting to be sent again) */
} ENetOutgoingCommand;

typedef struct _ENetIncomingCommand
{  
   ENetListNode     incomingCommandList;
   enet_uint16      reliableSequenceNumber;
   enet_uint16      unreliableSequenceNumber;
   ENetProtocol     command;
   enet_uint32      fragmentCount;
   enet_uint32      fragmentsRemaining;
   enet_uint32 *    fragments;
   ENetPacket *     packet;
   struct _ENetIncomingCommand * nextInTable; /**< local patch: the next held reliable command in its channel's table chain */
} ENetIncomingCommand;

typedef enum _ENetPeerState
{
   ENET_PEER_STATE_DISCONNECTED                = 0,
   ENET_PEER_STATE_CONNECTING                  = 1,
   ENET_PEER_STATE_ACKNOWLEDGING_CONNECT       = 2,
   ENET_PEER_STATE_CONNECTION_PENDING          = 3,
   ENET_PEER_STATE_CONNECTION_SUCCEEDED        = 4,
   ENET_PEER_STATE_CONNECTED                   = 5,
   ENET_PEER_STATE_DISCONNECT_LATER            = 6,
   ENET_PEER_STATE_DISCONNECTING               = 7,
   ENET_PEER_STATE_ACKNOWLEDGING_DISCONNECT    = 8,
   ENET_PEER_STATE_ZOMBIE                      = 9 
} ENetPeerState;

#ifndef ENET_BUFFER_MAXIMUM
#define ENET_BUFFER_MAXIMUM (1 + 2 * ENET_PROTOCOL_MAXIMUM_PACKET_COMMANDS)
#endif

enum
{
   ENET_HOST_RECEIVE_BUFFER_SIZE          = 256 * 1024,
   ENET_HOST_SEND_BUFFER_SIZE             = 256 * 1024,
   ENET_HOST_BANDWIDTH_THROTTLE_INTERVAL  = 1000,
   ENET_HOST_DEFAULT_MTU                  = 1392,
   ENET_HOST_DEFAULT_MAXIMUM_PACKET_SIZE  = 32 * 1024 * 1024,
   ENET_HOST_DEFAULT_MAXIMUM_WAITING_DATA = 32 * 1024 * 1024,
   ENET_HOST_DEFAULT_MAXIMUM_ADDRESS_WAITING_DATA = 64 * 1024 * 1024, /**< local patch */
   ENET_HOST_DEFAULT_MAXIMUM_HOST_WAITING_DATA    = 256 * 1024 * 1024, /**< local patch */
   ENET_HOST_DEFAULT_CONNECT_RECORD_LIMIT = 32768, /**< local patch: half-open handshakes kept without a peer under pressure */
   ENET_HOST_DEFAULT_CONNECT_TIMEOUT      = 5000,  /**< local patch: how long an unverified handshake lives */
   ENET_HOST_CONNECT_ANSWERS              = 8,     /**< local patch: most VERIFY_CONNECTs sent for one unverified handshake */
   ENET_HOST_CONNECT_FAILURES             = 4,     /**< local patch: wrong echoes that end an unverified handshake */
   ENET_HOST_CONNECT_ENDPOINT_RECORDS     = 8,     /**< local patch: handshakes under way (unverified peers and live records) one address and port may have (more CONNECTs wait) */
   ENET_HOST_CONNECT_GUESS_LIMIT          = 16,    /**< local patch: wrong echoes (from anyone) in a window that make every handshake need a second echo */
   ENET_HOST_CONNECT_GUESS_WINDOW         = 10000, /**< local patch: that window, in ms */
   ENET_PEER_RESERVED_WAITING_DATA        = 64 * 1024, /**< local patch: held by any peer whatever the others hold */

   ENET_PEER_DEFAULT_ROUND_TRIP_TIME      = 500,
   ENET_PEER_DEFAULT_PACKET_THROTTLE      = 32,
   ENET_PEER_PACKET_THROTTLE_SCALE        = 32,
   ENET_PEER_PACKET_THROTTLE_COUNTER      = 7, 
   ENET_PEER_PACKET_THROTTLE_ACCELERATION = 2,
   ENET_PEER_PACKET_THROTTLE_DECELERATION = 2,
   ENET_PEER_PACKET_THROTTLE_INTERVAL     = 5000,
   ENET_PEER_PACKET_LOSS_SCALE            = (1 << 16),
   ENET_PEER_PACKET_LOSS_INTERVAL         = 10000,
   ENET_PEER_WINDOW_SIZE_SCALE            = 64 * 1024,
   ENET_PEER_TIMEOUT_LIMIT                = 32,
   ENET_PEER_TIMEOUT_MINIMUM              = 5000,
   ENET_PEER_TIMEOUT_MAXIMUM              = 30000,
   ENET_PEER_PING_INTERVAL                = 500,
   ENET_PEER_UNSEQUENCED_WINDOWS          = 64,
   ENET_PEER_UNSEQUENCED_WINDOW_SIZE      = 1024,
   ENET_PEER_FREE_UNSEQUENCED_WINDOWS     = 32,
   ENET_PEER_RELIABLE_WINDOWS             = 16,
   ENET_PEER_RELIABLE_WINDOW_SIZE         = 0x1000,
   ENET_PEER_FREE_RELIABLE_WINDOWS        = 8,
   ENET_PEER_RELIABLE_TABLE_THRESHOLD     = 32,   /**< local patch: held reliable commands a channel searches without a table */
   ENET_PEER_RELIABLE_TABLE_SIZE          = 1024, /**< local patch: chains of a channel's table of held reliable commands */
   ENET_PEER_UNRELIABLE_REORDER_LIMIT     = 128,  /**< local patch: held unreliable commands an arriving one may sort before */
   ENET_PEER_SENT_TABLE_MINIMUM_SIZE      = 16    /**< local patch: chains of a peer's first sentReliableTable */
};

typedef struct _ENetChannel
{
   enet_uint16  outgoingReliableSequenceNumber;
   enet_uint16  outgoingUnreliableSequenceNumber;
   enet_uint16  usedReliableWindows;
   enet_uint16  reliableWindows [ENET_PEER_RELIABLE_WINDOWS];
   enet_uint16  incomingReliableSequenceNumber;
   enet_uint16  incomingUnreliableSequenceNumber;
   ENetList     incomingReliableCommands;
   ENetList     incomingUnreliableCommands;
   struct _ENetIncomingCommand ** incomingReliableTable; /**< local patch: the held reliable commands by sequence number, or NULL */
   size_t       incomingReliableCount; /**< local patch: commands in incomingReliableCommands */
} ENetChannel;

/** local patch: why a peer produced an ENET_EVENT_TYPE_DISCONNECT event */
typedef enum _ENetDisconnectReason
{
   ENET_DISCONNECT_REASON_NONE    = 0,
   ENET_DISCONNECT_REASON_LOCAL   = 1, /**< our disconnect was acknowledged (or the remote vanished while we were disconnecting) */
   ENET_DISCONNECT_REASON_REMOTE  = 2, /**< the remote peer asked to disconnect */
   ENET_DISCONNECT_REASON_TIMEOUT = 3, /**< an established connection timed out */
   ENET_DISCONNECT_REASON_REFUSED = 4  /**< a connection attempt never succeeded */
} ENetDisconnectReason;

typedef enum _ENetPeerFlag
{
   ENET_PEER_FLAG_NEEDS_DISPATCH   = (1 << 0),
   ENET_PEER_FLAG_CONTINUE_SENDING = (1 << 1),
   ENET_PEER_FLAG_UNVERIFIED       = (1 << 2), /**< local patch: half-open, its client has not echoed the handshake's sent times yet */
   ENET_PEER_FLAG_ALIASED          = (1 << 3), /**< local patch: its client addresses it as connectAlias, the slot its record offered */
   ENET_PEER_FLAG_INDEXED          = (1 << 4), /**< local patch: in the host's index of peers by address and port */
   ENET_PEER_FLAG_CONNECT_PENDING  = (1 << 5)  /**< local patch: connected by a service without an event; its connect event is not dispatched yet */
} ENetPeerFlag;

/** Local patch: the server's side of a handshake that its client has not completed yet by
    echoing the random sent time of the VERIFY_CONNECT it was sent. It holds that answer, frozen
    when the CONNECT came (slot, sessions and terms), so that every copy sent and the peer it
    becomes agree; the sent times the client must echo; and what the client's address has earned.
    An unverified half-open peer holds one in its slot; a record of the host's table holds one
    for a handshake that was offered a slot without taking it. */
typedef struct _ENetHandshake
{
   ENetProtocolVerifyConnect verify;    /**< the VERIFY_CONNECT command, as sent (reliable sequence number 1) */
   enet_uint32   connectData;           /**< the CONNECT's data field, as received */
   enet_uint32   incomingBandwidth;     /**< the client's, from its CONNECT */
   enet_uint32   outgoingBandwidth;     /**< the client's, from its CONNECT */
   enet_uint32   startTime;             /**< when the CONNECT came (never 0); the handshake ends connectTimeout later */
   enet_uint32   answerTime;            /**< when the last VERIFY_CONNECT went, for the first round-trip sample */
   enet_uint32   lifetime;              /**< the host's connectTimeout when the CONNECT came: the handshake lives that long once heard, twice as long if not */
   enet_uint16   clientPeerID;          /**< the client's own peer id (the CONNECT's outgoingPeerID), where a DISCONNECT goes */
   enet_uint16   sentTimes [2];         /**< the random sent times of its VERIFY_CONNECTs; the second is sent only under a guessing attack */
   enet_uint16   credit;                /**< bytes of answer the client's address has earned (3 per byte received, on the wire) */
   enet_uint8    issued;                /**< bit i: a VERIFY_CONNECT carrying sentTimes [i] was sent */
   enet_uint8    echoed;                /**< bit i: an acknowledgement echoed sentTimes [i] */
   enet_uint8    answers;               /**< VERIFY_CONNECTs sent */
   enet_uint8    failures;              /**< acknowledgements that echoed a wrong sent time */
   enet_uint8    heard;                 /**< a datagram from the client reached the offered slot */
} ENetHandshake;

/**
 * An ENet peer which data packets may be sent or received from. 
 *
 * No fields should be modified unless otherwise specified. 
 */
typedef struct _ENetPeer
{ 
   ENetListNode  dispatchList;
   struct _ENetHost * host;
   enet_uint16   outgoingPeerID;
   enet_uint16   incomingPeerID;
   enet_uint32   connectID;
   enet_uint8    outgoingSessionID;
   enet_uint8    incomingSessionID;
   ENetAddress   address;            /**< Internet address of the peer */
   void *        data;               /**< Application private data, may be freely modified */
   ENetPeerState state;
   ENetChannel * channels;
   size_t        channelCount;       /**< Number of channels allocated for communication with peer */
   enet_uint32   incomingBandwidth;  /**< Downstream bandwidth of the client in bytes/second */
   enet_uint32   outgoingBandwidth;  /**< Upstream bandwidth of the client in bytes/second */
   enet_uint32   incomingBandwidthThrottleEpoch;
   enet_uint32   outgoingBandwidthThrottleEpoch;
   enet_uint32   incomingDataTotal;
   enet_uint32   outgoingDataTotal;
   enet_uint32   lastSendTime;
   enet_uint32   lastReceiveTime;
   enet_uint32   nextTimeout;
   enet_uint32   earliestTimeout;
   enet_uint32   packetLossEpoch;
   enet_uint32   packetsSent;
   enet_uint32   packetsLost;
   enet_uint32   packetLoss;          /**< mean packet loss of reliable packets as a ratio with respect to the constant ENET_PEER_PACKET_LOSS_SCALE */
   enet_uint32   packetLossVariance;
   enet_uint32   packetThrottle;
   enet_uint32   packetThrottleLimit;
   enet_uint32   packetThrottleCounter;
   enet_uint32   packetThrottleEpoch;
   enet_uint32   packetThrottleAcceleration;
   enet_uint32   packetThrottleDeceleration;
   enet_uint32   packetThrottleInterval;
   enet_uint32   pingInterval;
   enet_uint32   timeoutLimit;
   enet_uint32   timeoutMinimum;
   enet_uint32   timeoutMaximum;
   enet_uint32   lastRoundTripTime;
   enet_uint32   lowestRoundTripTime;
   enet_uint32   lastRoundTripTimeVariance;
   enet_uint32   highestRoundTripTimeVariance;
   enet_uint32   roundTripTime;            /**< mean round trip time (RTT), in milliseconds, between sending a reliable packet and receiving its acknowledgement */
   enet_uint32   roundTripTimeVariance;
   enet_uint32   mtu;
   enet_uint32   windowSize;
   enet_uint32   reliableDataInTransit;
   enet_uint16   outgoingReliableSequenceNumber;
   ENetList      acknowledgements;
   ENetList      sentReliableCommands;
   ENetList      outgoingSendReliableCommands;
   ENetList      outgoingCommands;
   ENetList      dispatchedCommands;
   enet_uint16   flags;
   enet_uint16   reserved;
   enet_uint16   incomingUnsequencedGroup;
   enet_uint16   outgoingUnsequencedGroup;
   enet_uint32   unsequencedWindow [ENET_PEER_UNSEQUENCED_WINDOW_SIZE / 32]; 
   enet_uint32   eventData;
   size_t        totalWaitingData;   /**< memory held for incoming commands not yet received, bookkeeping included (local patch: was payload only) */
   enet_uint32   disconnectReason;   /**< local patch: why the last DISCONNECT event happened (ENetDisconnectReason) */
   struct _ENetOutgoingCommand ** sentReliableTable; /**< local patch: reliable commands sent and not acknowledged, by channel and sequence number */
   size_t        sentReliableTableSize; /**< local patch: chains in sentReliableTable, a power of 2 (0: none yet) */
   size_t        sentReliableCount;     /**< local patch: commands in sentReliableTable */
   ENetHandshake handshake;             /**< local patch: the handshake of an unverified half-open peer */
   enet_uint32   connectReservation;    /**< local patch: the record (index + 1) whose offer reserved this free slot, 0: none */
   enet_uint16   connectAlias;          /**< local patch: with ENET_PEER_FLAG_ALIASED, the peer id its client sends (another slot's) */
   enet_uint32   endpointChain;         /**< local patch: with ENET_PEER_FLAG_INDEXED, its chain of host -> endpointChains */
   enet_uint32   endpointNext;          /**< local patch: the next peer of that chain, as index + 1 (0: none) */
   enet_uint8    offeredIncomingSessionID; /**< local patch: the sessions a client may still send under this slot's id without a peer behind it (a handshake ended after its client was heard, a peer aliased away), or 0xFF */
   enet_uint8    offeredOutgoingSessionID;
   enet_uint32   connectData;           /**< local patch: with ENET_PEER_FLAG_CONNECT_PENDING, the data of its connect event */
} ENetPeer;

/** An ENet packet compressor for compressing UDP packets before socket sends or receives.
 */
typedef struct _ENetCompressor
{
   /** Context data for the compressor. Must be non-NULL. */
   void * context;
   /** Compresses from inBuffers[0:inBufferCount-1], containing inLimit bytes, to outData, outputting at most outLimit bytes. Should return 0 on failure. */
   size_t (ENET_CALLBACK * compress) (void * context, const ENetBuffer * inBuffers, size_t inBufferCount, size_t inLimit, enet_uint8 * outData, size_t outLimit);
   /** Decompresses from inData, containing inLimit bytes, to outData, outputting at most outLimit bytes. Should return 0 on failure. */
   size_t (ENET_CALLBACK * decompress) (void * context, const enet_uint8 * inData, size_t inLimit, enet_uint8 * outData, size_t outLimit);
   /** Destroys the context when compression is disabled or the host is destroyed. May be NULL. */
   void (ENET_CALLBACK * destroy) (void * context);
} ENetCompressor;

/** Callback that computes the checksum of the data held in buffers[0:bufferCount-1] */
typedef enet_uint32 (ENET_CALLBACK * ENetChecksumCallback) (const ENetBuffer * buffers, size_t bufferCount);

/** Callback for intercepting received raw UDP packets. Should return 1 to intercept, 0 to ignore, or -1 to propagate an error. */
typedef int (ENET_CALLBACK * ENetInterceptCallback) (struct _ENetHost * host, struct _ENetEvent * event);
 
/** Local patch: a handshake offered a slot without taking it, kept in the host's table while
    unverified half-open peers would hold too many slots. The table is a ring in the order the
    records were made (the oldest is replaced first) with hash chains by address and port. */
typedef struct _ENetConnectRecord
{
   ENetAddress          address;
   ENetHandshake        handshake;       /**< startTime 0: no record here */
   enet_uint32          next;            /**< the next record of its hash chain, as index + 1 (0: none) */
} ENetConnectRecord;

/** An ENet host for communicating with peers.
  *
  * No fields should be modified unless otherwise stated.

    @sa enet_host_create()
    @sa enet_host_destroy()
    @sa enet_host_connect()
    @sa enet_host_service()
    @sa enet_host_flush()
    @sa enet_host_broadcast()
    @sa enet_host_compress()
    @sa enet_host_compress_with_range_coder()
    @sa enet_host_channel_limit()
    @sa enet_host_bandwidth_limit()
    @sa enet_host_bandwidth_throttle()
  */
typedef struct _ENetHost
{
   ENetSocket           socket;
   ENetAddressFamily    addressFamily;               /**< families the socket reaches: DUAL unless bound to an IPv4 or IPv6 address, or the system has no IPv6 */
   ENetAddress          address;                     /**< Internet address of the host */
   enet_uint32          incomingBandwidth;           /**< downstream bandwidth of the host */
   enet_uint32          outgoingBandwidth;           /**< upstream bandwidth of the host */
   enet_uint32          bandwidthThrottleEpoch;
   enet_uint32          mtu;
   enet_uint32          randomSeed;
   int                  recalculateBandwidthLimits;
   ENetPeer *           peers;                       /**< array of peers allocated for this host */
   size_t               peerCount;                   /**< number of peers allocated for this host */
   size_t               channelLimit;                /**< maximum number of channels allowed for connected peers */
   enet_uint32          serviceTime;
   ENetList             dispatchQueue;
   enet_uint32          totalQueued;
   size_t               packetSize;
   enet_uint16          headerFlags;
   ENetProtocol         commands [ENET_PROTOCOL_MAXIMUM_PACKET_COMMANDS];
   size_t               commandCount;
   ENetBuffer           buffers [ENET_BUFFER_MAXIMUM];
   size_t               bufferCount;
   ENetChecksumCallback checksum;                    /**< callback the user can set to enable packet checksums for this host */
   ENetCompressor       compressor;
   enet_uint8           packetData [2][ENET_PROTOCOL_MAXIMUM_MTU];
   ENetAddress          receivedAddress;
   enet_uint8 *         receivedData;
   size_t               receivedDataLength;
   enet_uint32          totalSentData;               /**< total data sent, user should reset to 0 as needed to prevent overflow */
   enet_uint32          totalSentPackets;            /**< total UDP packets sent, user should reset to 0 as needed to prevent overflow */
   enet_uint32          totalReceivedData;           /**< total data received, user should reset to 0 as needed to prevent overflow */
   enet_uint32          totalReceivedPackets;        /**< total UDP packets received, user should reset to 0 as needed to prevent overflow */
   ENetInterceptCallback intercept;                  /**< callback the user can set to intercept received raw UDP packets */
   size_t               connectedPeers;
   size_t               bandwidthLimitedPeers;
   size_t               duplicatePeers;              /**< optional number of allowed peers from duplicate IPs, defaults to ENET_PROTOCOL_MAXIMUM_PEER_ID */
   size_t               maximumPacketSize;           /**< the maximum allowable packet size that may be sent or received on a peer */
   size_t               maximumWaitingData;          /**< the maximum aggregate amount of buffer space a peer may use waiting for packets to be delivered */
   size_t               totalWaitingData;            /**< local patch: memory held for all peers' incoming commands, bookkeeping included */
   size_t               maximumAddressWaitingData;   /**< local patch: the most the peers of one address may hold beyond their reserve */
   size_t               maximumHostWaitingData;      /**< local patch: the most all peers together may hold beyond their reserve */
   size_t               receivedAddressWaitingData;  /**< local patch: what the other peers of the received datagram's address hold, or (size_t) -1 until counted */
   int                  connectDefence;              /**< local patch: 1 (default) to verify new handshakes by their random echo (no retransmission, records under pressure); 0 for stock ENet's */
   struct _ENetConnectRecord * connectRecords;       /**< local patch: the ring of records (allocated when first needed) */
   enet_uint32 *        connectRecordChains;         /**< local patch: the first record (index + 1) of each hash chain, connectRecordLimit of them */
   size_t               connectRecordLimit;          /**< local patch: records the table holds, a power of 2 (0: never use records) */
   size_t               connectRecordHead;           /**< local patch: the oldest record of the ring */
   size_t               connectRecordCount;          /**< local patch: records from the oldest on, live or ended */
   size_t               connectRecordSwept;          /**< local patch: of those, how many from the oldest on have ended */
   size_t               connectRecordSlot;           /**< local patch: where the search for a slot to offer again starts */
   enet_uint32 *        endpointChains;              /**< local patch: the peers in use (index + 1) by the keyed hash of address and port */
   size_t               endpointChainCount;          /**< local patch: chains in endpointChains, a power of 2 */
   enet_uint32 *        slotBits;                    /**< local patch: four bitmaps of slotWords words over the slots: free, free and reserved by a record, unverified, and (0038) busy: a peer with something to send or a timer to check */
   size_t               slotWords;                   /**< local patch: words in each of those bitmaps */
   enet_uint32          connectTimeout;              /**< local patch: how long an unverified handshake lives, in ms */
   enet_uint32          connectSecret [4];           /**< local patch: the random key behind sent times and the record table's hash */
   enet_uint32          connectGuessWindow;          /**< local patch: when the current window of wrong echoes began (0: none yet) */
   enet_uint32          connectGuesses;              /**< local patch: wrong echoes in the current window */
   enet_uint32          connectGuessesBefore;        /**< local patch: wrong echoes in the window before */
   size_t               receivedWireLength;          /**< local patch: the received datagram's length on the wire (before decompression) */
   enet_uint32          connectsAnswered;            /**< local patch: VERIFY_CONNECTs sent to unverified addresses */
   enet_uint32          connectRecordsEvicted;       /**< local patch: records replaced before they ended */
   enet_uint32          connectRecordsExpired;       /**< local patch: records and unverified half-open peers that ended unanswered */
   enet_uint32          connectsCompleted;           /**< local patch: handshakes completed by their echoes */
   enet_uint32          connectsDropped;             /**< local patch: handshakes refused (slot taken, duplicate peers, wrong echoes, displaced) */
   enet_uint32          nextFullSendPass;            /**< local patch 0038: service time by which the send pass must visit every peer in use again (a ping falls due) */
   enet_uint32          lastFullSendPass;            /**< local patch 0038: service time of the last send pass that visited every peer in use */
} ENetHost;

/**
 * An ENet event type, as specified in @ref ENetEvent.
 */
typedef enum _ENetEventType
{
   /** no event occurred within the specified time limit */
   ENET_EVENT_TYPE_NONE       = 0,  

   /** a connection request initiated by enet_host_connect has completed.  
     * The peer field contains the peer which successfully connected. 
     */
   ENET_EVENT_TYPE_CONNECT    = 1,  

   /** a peer has disconnected.  This event is generated on a successful 
     * completion of a disconnect initiated by enet_peer_disconnect, if 
     * a peer has timed out, or if a connection request intialized by 
     * enet_host_connect has timed out.  The peer field contains the peer 
     * which disconnected. The data field contains user supplied data 
     * describing the disconnection, or 0, if none is available.
     */
   ENET_EVENT_TYPE_DISCONNECT = 2,  

   /** a packet has been received from a peer.  The peer field specifies the
     * peer which sent the packet.  The channelID field specifies the channel
     * number upon which the packet was received.  The packet field contains
     * the packet that was received; this packet must be destroyed with
     * enet_packet_destroy after use.
     */
   ENET_EVENT_TYPE_RECEIVE    = 3
} ENetEventType;

/**
 * An ENet event as returned by enet_host_service().
   
   @sa enet_host_service
 */
typedef struct _ENetEvent 
{
   ENetEventType        type;      /**< type of the event */
   ENetPeer *           peer;      /**< peer that generated a connect, disconnect or receive event */
   enet_uint8           channelID; /**< channel on the peer that generated the event, if appropriate */
   enet_uint32          data;      /**< data associated with the event, if appropriate */
   ENetPacket *         packet;    /**< packet associated with the event, if appropriate */
} ENetEvent;

#ifdef __cplusplus
extern "C"
{
#endif

/** @defgroup global ENet global functions
    @{ 
*/

/** 
  Initializes ENet globally.  Must be called prior to using any functions in
  ENet.
  @returns 0 on success, < 0 on failure
*/
ENET_API int enet_initialize (void);

/** 
  Initializes ENet globally and supplies user-overridden callbacks. Must be called prior to using any functions in ENet. Do not use enet_initialize() if you use this variant. Make sure the ENetCallbacks structure is zeroed out so that any additional callbacks added in future versions will be properly ignored.

  @param version the constant ENET_VERSION should be supplied so ENet knows which version of ENetCallbacks struct to use
  @param inits user-overridden callbacks where any NULL callbacks will use ENet's defaults
  @returns 0 on success, < 0 on failure
*/
ENET_API int enet_initialize_with_callbacks (ENetVersion version, const ENetCallbacks * inits);

/** 
  Shuts down ENet globally.  Should be called when a program that has
  initialized ENet exits.
*/
ENET_API void enet_deinitialize (void);

/**
  Gives the linked version of the ENet library.
  @returns the version number 
*/
ENET_API ENetVersion enet_linked_version (void);

/** @} */

/** @defgroup private ENet private implementation functions */

/**
  Returns the wall-time in milliseconds.  Its initial value is unspecified
  unless otherwise set.
  */
ENET_API enet_uint32 enet_time_get (void);
/**
  Sets the current wall-time in milliseconds.
  */
ENET_API void enet_time_set (enet_uint32);

/** @defgroup socket ENet socket functions
    @{
*/
ENET_API ENetSocket enet_socket_create (ENetSocketType, ENetAddressFamily);
ENET_API int        enet_socket_bind (ENetSocket, ENetAddressFamily, const ENetAddress *);
ENET_API int        enet_socket_get_address (ENetSocket, ENetAddress *);
ENET_API int        enet_socket_listen (ENetSocket, int);
ENET_API ENetSocket enet_socket_accept (ENetSocket, ENetAddress *);
ENET_API int        enet_socket_connect (ENetSocket, ENetAddressFamily, const ENetAddress *);
ENET_API int        enet_socket_send (ENetSocket, ENetAddressFamily, const ENetAddress *, const ENetBuffer *, size_t);
ENET_API int        enet_socket_receive (ENetSocket, ENetAddress *, ENetBuffer *, size_t);
ENET_API int        enet_socket_wait (ENetSocket, enet_uint32 *, enet_uint32);
ENET_API int        enet_socket_set_option (ENetSocket, ENetSocketOption, int);
ENET_API int        enet_socket_get_option (ENetSocket, ENetSocketOption, int *);
ENET_API int        enet_socket_shutdown (ENetSocket, ENetSocketShutdown);
ENET_API void       enet_socket_destroy (ENetSocket);
ENET_API int        enet_socketset_select (ENetSocket, ENetSocketSet *, ENetSocketSet *, enet_uint32);

/** Fills in the system socket address (a struct sockaddr_in or sockaddr_in6, in room for
    a struct sockaddr_storage) by which a socket of the given family reaches an address:
    an IPv4 address is a sockaddr_in for an IPV4 socket and an IPv4-mapped sockaddr_in6
    for a DUAL one.
    @retval the length of the socket address
    @retval 0 if such a socket cannot reach that address
*/
ENET_API size_t     enet_address_to_socket_address (const ENetAddress *, ENetAddressFamily, void *);

/** Reads an address from a system socket address (a struct sockaddr_in, which becomes an
    IPv4-mapped address, or a sockaddr_in6).
    @retval 0 on success
    @retval < 0 for another address family
*/
ENET_API int        enet_address_from_socket_address (ENetAddress *, const void *);

/** @} */

/** @defgroup Address ENet address functions
    @{
*/

/** Attempts to parse the printable form of the IP address in the parameter hostName
    and sets the host field in the address parameter if successful.
    @param address destination to store the parsed IP address
    @param hostName IP address to parse
    @retval 0 on success
    @retval < 0 on failure
    @returns the address of the given hostName in address on success
*/
ENET_API int enet_address_set_host_ip (ENetAddress * address, const char * hostName);

/** Attempts to resolve the host named by the parameter hostName and sets
    the host field in the address parameter if successful.
    @param address destination to store resolved address
    @param hostName host name to lookup
    @retval 0 on success
    @retval < 0 on failure
    @returns the address of the given hostName in address on success
*/
ENET_API int enet_address_set_host (ENetAddress * address, const char * hostName);

/** Gives the printable form of the IP address specified in the address parameter.
    @param address    address printed
    @param hostName   destination for name, must not be NULL
    @param nameLength maximum length of hostName.
    @returns the null-terminated name of the host in hostName on success
    @retval 0 on success
    @retval < 0 on failure
*/
ENET_API int enet_address_get_host_ip (const ENetAddress * address, char * hostName, size_t nameLength);

/** Attempts to do a reverse lookup of the host field in the address parameter.
    @param address    address used for reverse lookup
    @param hostName   destination for name, must not be NULL
    @param nameLength maximum length of hostName.
    @returns the null-terminated name of the host in hostName on success
    @retval 0 on success
    @retval < 0 on failure
*/
ENET_API int enet_address_get_host (const ENetAddress * address, char * hostName, size_t nameLength);

/** @} */

ENET_API ENetPacket * enet_packet_create (const void *, size_t, enet_uint32);
ENET_API void         enet_packet_destroy (ENetPacket *);
ENET_API int          enet_packet_resize  (ENetPacket *, size_t);
ENET_API enet_uint32  enet_crc32 (const ENetBuffer *, size_t);
                
ENET_API ENetHost * enet_host_create (const ENetAddress *, size_t, size_t, enet_uint32, enet_uint32);
ENET_API void       enet_host_destroy (ENetHost *);
ENET_API ENetPeer * enet_host_connect (ENetHost *, const ENetAddress *, size_t, enet_uint32);
ENET_API int        enet_host_check_events (ENetHost *, ENetEvent *);
ENET_API int        enet_host_service (ENetHost *, ENetEvent *, enet_uint32);
ENET_API void       enet_host_flush (ENetHost *);
ENET_API void       enet_host_broadcast (ENetHost *, enet_uint8, ENetPacket *);
ENET_API void       enet_host_compress (ENetHost *, const ENetCompressor *);
ENET_API int        enet_host_compress_with_range_coder (ENetHost * host);
ENET_API void       enet_host_channel_limit (ENetHost *, size_t);
ENET_API void       enet_host_bandwidth_limit (ENetHost *, enet_uint32, enet_uint32);
extern   void       enet_host_bandwidth_throttle (ENetHost *);
extern   int        enet_host_connect_defence (ENetHost *, int, size_t, enet_uint32);
extern  enet_uint32 enet_host_random_seed (void);
extern  void enet_host_random_secret (enet_uint32 *, size_t);
extern  int enet_address_same_source (const ENetAddress *, const ENetAddress *);
extern  unsigned long long enet_host_hash (const ENetHost *, unsigned long long, unsigned long long);
extern  void enet_host_sync_slot (ENetHost *, ENetPeer *);
extern  void enet_host_mark_busy (ENetHost *, ENetPeer *);
extern  void enet_host_index_peer (ENetHost *, ENetPeer *);
extern  enet_uint32 enet_host_endpoint_chain (ENetHost *, const ENetAddress *);
extern  void enet_host_unindex_peer (ENetHost *, ENetPeer *);
extern  ENetPeer * enet_host_free_slot (ENetHost *, const ENetAddress *);
extern  enet_uint32 enet_host_random (ENetHost *);

ENET_API int                 enet_peer_send (ENetPeer *, enet_uint8, ENetPacket *);
ENET_API ENetPacket *        enet_peer_receive (ENetPeer *, enet_uint8 * channelID);
ENET_API void                enet_peer_ping (ENetPeer *);
ENET_API void                enet_peer_ping_interval (ENetPeer *, enet_uint32);
ENET_API void                enet_peer_timeout (ENetPeer *, enet_uint32, enet_uint32, enet_uint32);
ENET_API void                enet_peer_reset (ENetPeer *);
ENET_API void                enet_peer_disconnect (ENetPeer *, enet_uint32);
ENET_API void                enet_peer_disconnect_now (ENetPeer *, enet_uint32);
ENET_API void                enet_peer_disconnect_later (ENetPeer *, enet_uint32);
ENET_API void                enet_peer_throttle_configure (ENetPeer *, enet_uint32, enet_uint32, enet_uint32);
extern int                   enet_peer_throttle (ENetPeer *, enet_uint32);
extern void                  enet_peer_reset_queues (ENetPeer *);
extern int                   enet_peer_has_outgoing_commands (ENetPeer *);
extern void                  enet_peer_setup_outgoing_command (ENetPeer *, ENetOutgoingCommand *);
extern ENetOutgoingCommand * enet_peer_queue_outgoing_command (ENetPeer *, const ENetProtocol *, ENetPacket *, enet_uint32, enet_uint16);
extern ENetIncomingCommand * enet_peer_queue_incoming_command (ENetPeer *, const ENetProtocol *, const void *, size_t, enet_uint32, enet_uint32);
extern ENetAcknowledgement * enet_peer_queue_acknowledgement (ENetPeer *, const ENetProtocol *, enet_uint16);
extern void                  enet_peer_dispatch_incoming_unreliable_commands (ENetPeer *, ENetChannel *, ENetIncomingCommand *);
extern void                  enet_peer_dispatch_incoming_reliable_commands (ENetPeer *, ENetChannel *, ENetIncomingCommand *);
extern ENetIncomingCommand * enet_peer_find_incoming_reliable_command (ENetChannel *, enet_uint16);
extern int                   enet_peer_track_sent_reliable_command (ENetPeer *, ENetOutgoingCommand *);
extern ENetOutgoingCommand * enet_peer_find_sent_reliable_command (ENetPeer *, enet_uint16, enet_uint8);
extern void                  enet_peer_untrack_sent_reliable_command (ENetPeer *, ENetOutgoingCommand *);
extern void                  enet_peer_on_connect (ENetPeer *);
extern void                  enet_peer_on_disconnect (ENetPeer *);

ENET_API void * enet_range_coder_create (void);
ENET_API void   enet_range_coder_destroy (void *);
ENET_API size_t enet_range_coder_compress (void *, const ENetBuffer *, size_t, size_t, enet_uint8 *, size_t);
ENET_API size_t enet_range_coder_decompress (void *, const enet_uint8 *, size_t, enet_uint8 *, size_t);
   
extern size_t enet_protocol_command_size (enet_uint8);

#ifdef __cplusplus
}
#endif

#endif /* __ENET_ENET_H__ */

