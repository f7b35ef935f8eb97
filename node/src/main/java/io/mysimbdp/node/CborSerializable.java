package io.mysimbdp.node;

/** Marker for every message that may cross nodes: bound to Jackson CBOR in serialization.conf. */
public interface CborSerializable {}
