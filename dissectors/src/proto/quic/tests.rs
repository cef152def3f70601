//! Unit tests of the QUIC dissector.
