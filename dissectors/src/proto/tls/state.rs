//! The handshake state machine of one connection, as a transition table (in the manner of
//! tls-parser's `tls_states.rs`, extended for TLS 1.3 and for what a passive observer can see).
//!
//! The machine is kept apart from parsing: the record and handshake code turns what it saw into
//! an [`Event`] and asks [`next`] for the new state. An event the table does not allow from the
//! current state is reported as unexpected (an expert note, never a malformed packet: real peers
//! send odd but legal sequences) and leaves the state unchanged.
//!
//! What cannot be seen without keys is an event of its own: a TLS 1.2 Finished after
//! ChangeCipherSpec is [`Event::EncryptedHandshake`]; everything after a TLS 1.3 ServerHello is
//! application data on the wire, so a TLS 1.3 connection counts as established at the client's
//! first encrypted record after the server's flight (its Finished).

use crate::dissector::Direction;

/// Where the handshake stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum State {
    /// Nothing seen yet (or the capture started mid-connection).
    #[default]
    Start,
    ClientHello,
    /// The server asked for another ClientHello (TLS 1.3 HelloRetryRequest).
    RetryRequested,
    /// TLS 1.2 (or earlier) ServerHello seen.
    ServerHello,
    ServerCertificate,
    ServerKeyExchange,
    CertificateRequested,
    ServerHelloDone,
    ClientCertificate,
    ClientKeyExchange,
    ClientCertificateVerify,
    /// The client switched to the new keys.
    ClientChangeCipherSpec,
    /// The client's (encrypted) Finished was sent; the server's is awaited.
    ClientFinished,
    ServerChangeCipherSpec,
    /// Abbreviated (resumed) TLS 1.2 handshake: the server changed keys first.
    ResumedServerChangeCipherSpec,
    ResumedServerFinished,
    ResumedClientChangeCipherSpec,
    /// TLS 1.3 ServerHello seen: the rest of the handshake is encrypted.
    Tls13Negotiated,
    /// Handshake complete: application data flows.
    Established,
}

/// What was seen on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    ClientHello,
    /// A ServerHello selecting TLS 1.2 or earlier.
    ServerHello,
    /// A ServerHello selecting TLS 1.3.
    ServerHello13,
    HelloRetryRequest,
    Certificate,
    CertificateStatus,
    ServerKeyExchange,
    CertificateRequest,
    ServerHelloDone,
    ClientKeyExchange,
    CertificateVerify,
    NewSessionTicket,
    /// A handshake message we cannot read (encrypted Finished, or renegotiation).
    EncryptedHandshake,
    /// Any other plaintext handshake message (Finished in the clear, KeyUpdate …).
    OtherHandshake,
    ChangeCipherSpec,
    ApplicationData,
}

/// The event is not allowed in the current state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unexpected;

/// The transition table: the state after `ev` travelling in `dir` (client to server is
/// [`Direction::ToServer`]).
#[rustfmt::skip]
pub fn next(state: State, ev: Event, dir: Direction) -> Result<State, Unexpected> {
    use Direction::{ToClient as S, ToServer as C};
    use Event as E;
    use State as St;
    Ok(match (state, ev, dir) {
        // A new handshake may start from anywhere we lost track, or after a HelloRetryRequest.
        (St::Start | St::RetryRequested | St::Established,  E::ClientHello, C) => St::ClientHello,
        (St::ClientHello, E::ServerHello,       S) => St::ServerHello,
        (St::ClientHello, E::ServerHello13,     S) => St::Tls13Negotiated,
        (St::ClientHello, E::HelloRetryRequest, S) => St::RetryRequested,
        // TLS 1.3 middlebox-compatibility ChangeCipherSpec may come from either side.
        (St::ClientHello | St::RetryRequested,  E::ChangeCipherSpec, _) => state,
        // Full TLS 1.2 handshake, server flight.
        (St::ServerHello,          E::Certificate,        S) => St::ServerCertificate,
        (St::ServerHello,          E::ServerKeyExchange,  S) => St::ServerKeyExchange,
        (St::ServerHello,          E::ServerHelloDone,    S) => St::ServerHelloDone,
        (St::ServerCertificate,    E::CertificateStatus,  S) => St::ServerCertificate,
        (St::ServerCertificate,    E::ServerKeyExchange,  S) => St::ServerKeyExchange,
        (St::ServerCertificate,    E::CertificateRequest, S) => St::CertificateRequested,
        (St::ServerCertificate,    E::ServerHelloDone,    S) => St::ServerHelloDone,
        (St::ServerKeyExchange,    E::CertificateRequest, S) => St::CertificateRequested,
        (St::ServerKeyExchange,    E::ServerHelloDone,    S) => St::ServerHelloDone,
        (St::CertificateRequested, E::ServerHelloDone,    S) => St::ServerHelloDone,
        // Client flight.
        (St::ServerHelloDone,      E::Certificate,        C) => St::ClientCertificate,
        (St::ServerHelloDone,      E::ClientKeyExchange,  C) => St::ClientKeyExchange,
        (St::ClientCertificate,    E::ClientKeyExchange,  C) => St::ClientKeyExchange,
        (St::ClientKeyExchange,    E::CertificateVerify,  C) => St::ClientCertificateVerify,
        (St::ClientKeyExchange | St::ClientCertificateVerify, E::ChangeCipherSpec, C) => St::ClientChangeCipherSpec,
        (St::ClientChangeCipherSpec, E::EncryptedHandshake | E::OtherHandshake, C) => St::ClientFinished,
        // Server's answer.
        (St::ClientFinished,       E::NewSessionTicket,   S) => St::ClientFinished,
        (St::ClientFinished,       E::ChangeCipherSpec,   S) => St::ServerChangeCipherSpec,
        (St::ServerChangeCipherSpec, E::EncryptedHandshake | E::OtherHandshake, S) => St::Established,
        // Abbreviated handshake: the server finishes first.
        (St::ServerHello,          E::NewSessionTicket,   S) => St::ServerHello,
        (St::ServerHello,          E::ChangeCipherSpec,   S) => St::ResumedServerChangeCipherSpec,
        (St::ResumedServerChangeCipherSpec, E::EncryptedHandshake | E::OtherHandshake, S) => St::ResumedServerFinished,
        (St::ResumedServerFinished, E::ChangeCipherSpec,  C) => St::ResumedClientChangeCipherSpec,
        (St::ResumedClientChangeCipherSpec, E::EncryptedHandshake | E::OtherHandshake, C) => St::Established,
        // TLS 1.3: the server's flight is encrypted; the client's first encrypted record after
        // it is its Finished.
        (St::Tls13Negotiated,      E::ChangeCipherSpec,   _) => state,
        (St::Tls13Negotiated,      E::ApplicationData,    S) => state,
        (St::Tls13Negotiated,      E::ApplicationData,    C) => St::Established,
        // Established: data, tickets, encrypted post-handshake messages, renegotiation.
        (St::Established, E::ApplicationData | E::EncryptedHandshake | E::NewSessionTicket | E::OtherHandshake, _) => state,
        // A capture that starts mid-connection never leaves Start, and says nothing about it.
        (St::Start, _, _) => state,
        _ => return Err(Unexpected),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use Direction::{ToClient as S, ToServer as C};

    fn run(events: &[(Event, Direction)]) -> Result<State, Unexpected> {
        events
            .iter()
            .try_fold(State::Start, |st, &(ev, dir)| next(st, ev, dir))
    }

    #[test]
    fn tls12_full_with_client_certificate() {
        let st = run(&[
            (Event::ClientHello, C),
            (Event::ServerHello, S),
            (Event::Certificate, S),
            (Event::ServerKeyExchange, S),
            (Event::CertificateRequest, S),
            (Event::ServerHelloDone, S),
            (Event::Certificate, C),
            (Event::ClientKeyExchange, C),
            (Event::CertificateVerify, C),
            (Event::ChangeCipherSpec, C),
            (Event::EncryptedHandshake, C),
            (Event::ChangeCipherSpec, S),
            (Event::EncryptedHandshake, S),
            (Event::ApplicationData, C),
        ]);
        assert_eq!(st, Ok(State::Established));
    }

    #[test]
    fn tls12_resumed() {
        let st = run(&[
            (Event::ClientHello, C),
            (Event::ServerHello, S),
            (Event::ChangeCipherSpec, S),
            (Event::EncryptedHandshake, S),
            (Event::ChangeCipherSpec, C),
            (Event::EncryptedHandshake, C),
        ]);
        assert_eq!(st, Ok(State::Established));
    }

    #[test]
    fn tls13_with_retry() {
        let st = run(&[
            (Event::ClientHello, C),
            (Event::HelloRetryRequest, S),
            (Event::ChangeCipherSpec, C),
            (Event::ClientHello, C),
            (Event::ServerHello13, S),
            (Event::ChangeCipherSpec, S),
            (Event::ApplicationData, S),
            (Event::ApplicationData, C),
        ]);
        assert_eq!(st, Ok(State::Established));
    }

    #[test]
    fn unexpected_leaves_state() {
        assert_eq!(
            next(State::ClientHello, Event::ClientKeyExchange, C),
            Err(Unexpected)
        );
        // Mid-connection captures are not flagged.
        assert_eq!(
            next(State::Start, Event::ApplicationData, S),
            Ok(State::Start)
        );
    }
}
