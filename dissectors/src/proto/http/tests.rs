//! HTTP/1 parser tests: messages whole, split at every byte, pipelined, malformed; upgrades.

use super::*;
use crate::dissector::Direction::{ToClient as S, ToServer as C};
use crate::proto::testkit::{all_fields, run, Driver};

fn http() -> Box<dyn StreamParser> {
    Http.start()
}

const GET: &[u8] = b"GET /index.html HTTP/1.1\r\nHost: www.example.test\r\nUser-Agent: netsniff-recipe/1.0\r\nAccept: */*\r\n\r\n";
const OK: &[u8] = b"HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Type: text/html\r\nContent-Length: 5\r\nConnection: keep-alive\r\n\r\nhello";
const CHUNKED: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n5\r\n12345\r\n0\r\nX-Trailer: t\r\n\r\n";
const POST: &[u8] = b"POST /post HTTP/1.1\r\nHost: h\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 7\r\n\r\na=1&b=2";

#[test]
fn deconstruct() {
    let out = run(http(), &[(C, GET), (S, OK)]);
    let req = &out[0];
    assert_eq!(req.protocols, ["http"]);
    assert_eq!(req.get("http.request.method"), "GET");
    assert_eq!(req.get("http.request.uri"), "/index.html");
    assert_eq!(req.get("http.request.version"), "HTTP/1.1");
    assert_eq!(req.get("http.host"), "www.example.test");
    assert_eq!(req.get("http.user_agent"), "netsniff-recipe/1.0");
    assert_eq!(req.get("http.request.full_uri"), "http://www.example.test/index.html");
    assert_eq!(req.get("http.request.line"), "Host: www.example.test\\r\\n,User-Agent: netsniff-recipe/1.0\\r\\n,Accept: */*\\r\\n");
    assert_eq!(req.get("http.request_number"), "1");
    let resp = &out[1];
    assert_eq!(resp.protocols, ["http", "data-text-lines"]);
    assert_eq!(resp.get("http.response.code"), "200");
    assert_eq!(resp.get("http.response.phrase"), "OK");
    assert_eq!(resp.get("http.response.code.desc"), "OK");
    assert_eq!(resp.get("http.content_type"), "text/html");
    assert_eq!(resp.get("http.content_length_header"), "5");
    assert_eq!(resp.get("http.content_length"), "5");
    assert_eq!(resp.get("http.request_in"), "1");
    assert_eq!(resp.get("http.time"), "1.000000000");
    assert_eq!(resp.get("http.file_data"), "hello");
    assert_eq!(
        resp.get("http.response_for.uri"),
        "http://www.example.test/index.html"
    );
}

#[test]
fn info_column() {
    let out = run(http(), &[(C, GET), (S, OK), (C, POST), (S, b"HTTP/1.1 204 No Content\r\n\r\n")]);
    assert_eq!(out[0].info, "GET /index.html HTTP/1.1 ");
    assert_eq!(out[0].protocol_col, "HTTP");
    assert_eq!(out[1].info, "HTTP/1.1 200 OK  (text/html)");
    assert_eq!(out[2].info, "POST /post HTTP/1.1  (application/x-www-form-urlencoded)");
    assert_eq!(out[2].protocols, ["http", "urlencoded-form"]);
    assert_eq!(out[3].info, "HTTP/1.1 204 No Content ");
    let out = run(http(), &[(C, GET), (S, b"HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: 2\r\n\r\n{}")]);
    assert_eq!(out[1].info, "HTTP/1.1 200 OK , JavaScript Object Notation (application/json)");
    assert_eq!(out[1].protocol_col, "HTTP/JSON");
    // Pipelined: each message appends its line.
    let two = [GET, GET].concat();
    let out = run(http(), &[(C, &two)]);
    assert_eq!(out[0].info, "GET /index.html HTTP/1.1 GET /index.html HTTP/1.1 ");
}

#[test]
fn unfinished_message_info() {
    // The first line is shown, under TCP, until the message completes (tshark then appends
    // "[TCP segment of a reassembled PDU]").
    let out = run(http(), &[(C, GET), (S, &OK[..20]), (S, &OK[20..])]);
    assert_eq!(out[1].info, "HTTP/1.1 200 OK ");
    assert_eq!(out[1].protocol_col, "TCP");
    assert!(out[1].protocols.is_empty());
    assert_eq!(out[2].get("http.response.code"), "200");
}

#[test]
fn unfinished_message_info_once_when_length_known() {
    // A body of known length: tshark waits for the exact rest, so only the frame that
    // completed the head shows the first line, even if the engine calls again early.
    let mut d = Driver::new(http());
    d.frame(C, GET, 0);
    let head = b"HTTP/1.1 200 OK\r\nContent-Length: 3000\r\n\r\n";
    let f = d.frame(S, head, 1);
    assert_eq!(f.info, "HTTP/1.1 200 OK ");
    let mut p = HttpParser::default();
    let mut rec = crate::proto::testkit::Rec::default();
    let mut stack = crate::pinfo::ProtoStack::default();
    let mut cols = crate::Columns::default();
    let mut cx = crate::dissector::Cx::new(&mut rec, Some(&mut cols), &mut stack);
    let mut scx = StreamCx {
        cx: &mut cx,
        frame: 1,
        secs: 0,
        nanos: 0,
        stream_offset: 0,
        stream: 0,
        tcp: true,
        ports: [0, 0],
        ordinal: 0,
    };
    let mut msg = head.to_vec();
    msg.extend_from_slice(&[b'x'; 1000]);
    assert!(matches!(p.data(S, &msg, &mut scx), Progress::NeedMore { .. }));
    scx.frame = 2;
    scx.cx.cols.as_deref_mut().unwrap().info.clear();
    msg.extend_from_slice(&[b'x'; 1000]);
    assert!(matches!(p.data(S, &msg, &mut scx), Progress::NeedMore { .. }));
    assert_eq!(scx.cx.cols.as_deref().unwrap().info, "");
}

fn split_check(dir: crate::dissector::Direction, prefix: &[(crate::dissector::Direction, &[u8])], msg: &[u8]) {
    let mut whole = prefix.to_vec();
    whole.push((dir, msg));
    let expect = all_fields(&run(http(), &whole));
    for i in 1..msg.len() {
        let mut frames = prefix.to_vec();
        frames.push((dir, &msg[..i]));
        frames.push((dir, &msg[i..]));
        let got = run(http(), &frames);
        // The time since the request depends on which frame completes the response.
        let strip = |v: Vec<(&'static str, String)>| -> Vec<_> {
            v.into_iter().filter(|(n, _)| *n != "http.time" && *n != "http.request_in" && *n != "http.prev_request_in" && *n != "http.prev_response_in").collect()
        };
        assert_eq!(strip(all_fields(&got)), strip(expect.clone()), "split at {i}");
        let emitted: Vec<_> = got.iter().filter(|f| f.protocols.contains(&"http")).collect();
        assert!(!emitted.is_empty());
    }
}

#[test]
fn split_at_every_byte() {
    split_check(C, &[], &[GET, POST].concat());
    split_check(S, &[(C, GET), (C, GET)], &[OK, CHUNKED].concat());
    split_check(S, &[(C, GET)], b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
}

#[test]
fn truncated_at_every_byte() {
    // A message cut anywhere shows nothing (tshark waits for the rest) and never panics.
    let msg = [OK, CHUNKED].concat();
    for i in 0..msg.len() {
        let mut d = Driver::new(http());
        d.frame(C, GET, 0);
        d.frame(C, GET, 0);
        let f = d.frame(S, &msg[..i], 1);
        assert!(f.fatal.is_none(), "cut at {i}");
        let e = d.end(S, 2);
        assert!(e.fields.is_empty());
    }
}

#[test]
fn chunked_with_trailers() {
    let out = run(http(), &[(C, GET), (S, CHUNKED)]);
    let r = &out[1];
    assert_eq!(r.get("http.chunk_size"), "3,5,0");
    assert_eq!(r.get("http.chunk_data"), "616263,3132333435");
    assert_eq!(r.get("http.chunk_boundary"), "0d0a,0d0a");
    assert_eq!(r.get("http.chunked_trailer_part"), "X-Trailer: t");
    assert_eq!(r.get("http.content_length"), "");
    assert_eq!(r.info, "HTTP/1.1 200 OK  (text/plain)");
}

#[test]
fn pipelining_pairs_in_order() {
    let reqs = [GET, POST, GET].concat();
    let resps = [OK, b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n".as_slice(), CHUNKED].concat();
    let out = run(http(), &[(C, &reqs[..10]), (C, &reqs[10..]), (S, &resps)]);
    assert_eq!(out[1].get("http.request_number"), "1,2,3");
    assert_eq!(out[1].get("http.prev_request_in"), "2,2");
    assert_eq!(out[2].get("http.request_in"), "2,2,2");
    assert_eq!(out[2].get("http.response.code"), "200,404,200");
    assert_eq!(out[2].get("http.response_number"), "1,2,3");
    assert_eq!(out[2].get("http.prev_response_in"), "3,3");
}

#[test]
fn bodiless_responses() {
    let head_req = b"HEAD / HTTP/1.1\r\nHost: h\r\n\r\n";
    let out = run(
        http(),
        &[
            (C, head_req),
            (S, b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n"),
            (C, GET),
            (S, b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n"),
            (C, GET),
            (S, OK),
        ],
    );
    assert_eq!(out[1].get("http.content_length"), "50");
    assert_eq!(out[1].protocols, ["http"]);
    assert_eq!(out[3].get("http.response.code"), "100,304");
    assert_eq!(out[3].get("http.request_in"), "3,3");
    assert_eq!(out[5].get("http.request_in"), "5");
    assert_eq!(out[5].get("http.file_data"), "hello");
}

#[test]
fn big_body_is_streamed() {
    let body_len = MAX_HELD + 1000;
    let head = format!("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {body_len}\r\n\r\n");
    let mut d = Driver::new(http());
    d.frame(C, GET, 0);
    let mut stream = head.into_bytes();
    stream.extend(std::iter::repeat_n(b'x', body_len));
    stream.extend_from_slice(OK);
    d.frame(C, GET, 0);
    let mut shown = 0;
    for chunk in stream.chunks(1448) {
        let last = d.frame(S, chunk, 1);
        if last.protocols.contains(&"http") {
            shown += 1;
            if shown == 1 {
                // The frame that ends the big body also completes the next response.
                assert_eq!(last.get("http.content_length"), format!("{body_len},5"));
                assert_eq!(last.protocols, ["http", "data", "http", "data-text-lines"]);
                assert_eq!(last.get("data.len"), body_len.to_string());
                assert_eq!(last.get("http.request_in"), "1,2");
                assert_eq!(last.get("http.file_data"), "hello");
            }
        }
    }
    assert_eq!(shown, 1);
}

#[test]
fn connection_delimited_body() {
    let mut d = Driver::new(http());
    d.frame(C, b"GET / HTTP/1.0\r\n\r\n", 0);
    let a = d.frame(S, b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nhello", 1);
    assert!(a.protocols.is_empty());
    d.frame(S, b" world", 1);
    let e = d.end(S, 2);
    assert_eq!(e.protocols, ["http", "data-text-lines"]);
    assert_eq!(e.get("http.response.code"), "200");
    assert_eq!(e.info, "HTTP/1.0 200 OK  (text/plain)");
}

#[test]
fn malformed_line_without_colon() {
    let out = run(http(), &[(C, b"GET / HTTP/1.1\r\nHost: x\r\nBadLine\r\n\r\n")]);
    assert!(out[0].fatal.is_some());
    assert_eq!(out[0].protocols, ["http"]);
}

#[test]
fn malformed_head_longer_than_any_buffer() {
    let mut d = Driver::new(http());
    let mut req = b"GET / HTTP/1.1\r\nX-Long: ".to_vec();
    req.extend(std::iter::repeat_n(b'a', MAX_HEAD_LEN));
    let mut fatal = None;
    for c in req.chunks(1448) {
        let f = d.frame(C, c, 0);
        if f.fatal.is_some() {
            fatal = f.fatal;
            break;
        }
    }
    assert_eq!(fatal, Some("head longer than MAX_HEAD_LEN"));
}

#[test]
fn malformed_lengths() {
    // A Content-Length that is not a length is ignored, as tshark does: the next request follows.
    let two = b"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\nGET /next HTTP/1.1\r\n\r\n";
    let out = run(http(), &[(C, two)]);
    assert!(out[0].fatal.is_none());
    assert_eq!(out[0].get("http.request.uri"), "/,/next");
    assert_eq!(out[0].get("http.content_length"), "");
    assert_eq!(out[0].texts, ["Content-Length is not a number"]);
    let out = run(
        http(),
        &[(C, b"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nx")],
    );
    assert_eq!(out[0].get("http.content_length"), "1,2");
    assert_eq!(out[0].texts, ["Content-Length headers disagree"]);
    // Bad chunk sizes stop the stream after showing the head.
    let out = run(
        http(),
        &[(C, GET), (S, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")],
    );
    assert_eq!(out[1].fatal, Some("chunk size is not hexadecimal"));
    assert_eq!(out[1].get("http.response.code"), "200");
    let out = run(
        http(),
        &[(C, GET), (S, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000000\r\n")],
    );
    assert_eq!(out[1].fatal, Some("chunk size too large"));
}

#[test]
fn lenient_request_lines() {
    // tshark shows what a broken request line holds; so do we.
    let out = run(
        http(),
        &[(C, b"OPTIONS HTTP/1.1\r\nHost: h\r\n\r\nOPTIONS\r\nHost: h\r\n\r\nGET / HTTP/1.\r\n\r\nCCM_POST /x HTTP/1.1\r\n\r\n")],
    );
    assert!(out[0].fatal.is_none());
    assert_eq!(out[0].get("http.request.method"), "OPTIONS,OPTIONS,GET,CCM_POST");
    assert_eq!(out[0].get("http.request.uri"), "HTTP/1.1,,/,/x");
    assert_eq!(out[0].get("http.request.version"), ",,HTTP/1.,HTTP/1.1");
    // Multi-valued Transfer-Encoding with chunked anywhere frames the body as chunked.
    let out = run(
        http(),
        &[(C, b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\nGET /b HTTP/1.1\r\n\r\n")],
    );
    assert_eq!(out[0].get("http.request.uri"), "/,/b");
}

#[test]
fn continuation_after_gap() {
    let mut d = Driver::new(http());
    let f = d.frame(S, b"some body bytes", 0);
    assert_eq!(f.protocols, ["http", "data"]);
    assert_eq!(f.info, "Continuation");
    let f = d.frame(C, GET, 0);
    assert_eq!(f.get("http.request.uri"), "/index.html");
}

#[test]
fn websocket_upgrade_and_accept_check() {
    let req = b"GET /chat HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    assert_eq!(&websocket_accept(b"dGhlIHNhbXBsZSBub25jZQ=="), b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    let good = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n\x81\x02hi";
    let out = run(http(), &[(C, req), (S, good)]);
    assert_eq!(out[1].protocols, ["http", "websocket", "data-text-lines"]);
    assert_eq!(out[1].info, "HTTP/1.1 101 Switching Protocols WebSocket Text [FIN] ");
    assert_eq!(out[1].get("websocket.payload.text"), "hi");
    assert!(out[1].texts.is_empty());
    let bad = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n\r\n";
    let out = run(http(), &[(C, req), (S, bad)]);
    assert_eq!(out[1].texts.len(), 1);
    assert!(out[1].info.contains("[bad Sec-WebSocket-Accept]"));
}

#[test]
fn h2_preface_and_h2c_upgrade_switch() {
    let have_h2 = crate::proto::stream_dissector("http2").is_some();
    let mut p = HttpParser::default();
    let mut rec = crate::proto::testkit::Rec::default();
    let mut stack = crate::pinfo::ProtoStack::default();
    let mut cx = crate::dissector::Cx::new(&mut rec, None, &mut stack);
    let mut scx = StreamCx {
        cx: &mut cx,
        frame: 1,
        secs: 0,
        nanos: 0,
        stream_offset: 0,
        stream: 0,
        ports: [0, 0],
        ordinal: 0,
        tcp: true,
    };
    assert!(matches!(
        p.data(C, &H2_PREFACE[..10], &mut scx),
        Progress::NeedMore {
            consumed: 0,
            needed: 14
        }
    ));
    let r = p.data(C, H2_PREFACE, &mut scx);
    if have_h2 {
        // HTTP/2 runs inside HTTP: the flow engine sees no switch.
        assert!(!matches!(r, Progress::Switch { .. } | Progress::Fatal(_)));
        assert!(p.inner.is_some());
    } else {
        assert!(matches!(
            r,
            Progress::Switch {
                proto: "http2",
                consumed: 0
            }
        ));
    }
    let req = b"GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA\r\n\r\n";
    let mut p = HttpParser::default();
    assert!(matches!(p.data(C, req, &mut scx), Progress::Done));
    let resp = b"HTTP/1.1 101 \r\nconnection: upgrade\r\nupgrade: h2c\r\n\r\n\x00\x00\x00\x04";
    let r = p.data(S, resp, &mut scx);
    if have_h2 {
        assert!(p.inner.is_some());
        assert!(matches!(r, Progress::NeedMore { .. } | Progress::Done));
    } else {
        assert!(matches!(
            r,
            Progress::Switch {
                proto: "http2",
                consumed: 52
            }
        ));
    }
}

/// A tiny deterministic generator (no dependency needed for a smoke fuzz).
fn lcg(seed: &mut u64) -> u64 {
    *seed = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    *seed >> 33
}

#[test]
fn mutated_messages_never_panic() {
    let corpus: Vec<u8> = [GET, OK, POST, CHUNKED].concat();
    let mut seed = 7u64;
    for _ in 0..2000 {
        let mut msg = corpus.clone();
        for _ in 0..(lcg(&mut seed) % 8) {
            let i = (lcg(&mut seed) as usize) % msg.len();
            msg[i] = match lcg(&mut seed) % 4 {
                0 => b'\r',
                1 => b'\n',
                2 => b':',
                _ => lcg(&mut seed) as u8,
            };
        }
        let cut = (lcg(&mut seed) as usize) % msg.len();
        let mut d = Driver::new(http());
        let dir = if lcg(&mut seed) % 2 == 0 { C } else { S };
        d.frame(dir, &msg[..cut], 0);
        d.frame(dir, &msg[cut..], 1);
        d.end(dir, 2);
    }
}

#[test]
fn probe_as_tshark_heuristic() {
    // tshark's HTTP heuristic: a first line starting with HTTP/1. or ending with HTTP/1.x.
    assert_eq!(Http.probe(C, b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"), Probe::Yes);
    assert_eq!(Http.probe(S, b"HTTP/1.0 200 OK\r\n"), Probe::Yes);
    assert_eq!(Http.probe(C, b"get /x http/1.0\n"), Probe::Yes);
    assert_eq!(Http.probe(C, b"GET / HTTP/1.1"), Probe::NeedMore);
    // A bare method line (tcp-impairments asks its server for data so) is not HTTP to tshark.
    assert_eq!(Http.probe(C, b"GET\n"), Probe::No);
    assert_eq!(Http.probe(C, b"\x00\x01binary\n"), Probe::No);
}

/// A recycled parser shows a connection exactly as a new one does: no pending request, held
/// head or Info state survives `recycle` (the flow engine hands it to the next HTTP flow).
#[test]
fn recycled_parser_is_new() {
    use crate::dissector::Direction::{ToClient, ToServer};
    let script: &[(crate::dissector::Direction, &[u8])] = &[(ToServer, GET), (ToClient, OK), (ToServer, POST)];
    let expected = run(http(), script);
    // A connection left with unanswered requests and a response head waiting for its body.
    let mut used = Driver::new(http());
    used.frame(ToServer, GET, 1);
    used.frame(ToServer, POST, 2);
    used.frame(ToClient, &OK[..OK.len() - 2], 3);
    let mut parser = used.into_parser();
    let proto = parser.recycle();
    assert!(proto.is_some_and(|p| std::ptr::eq(p, &PROTO)));
    let again = run(parser, script);
    assert_eq!(format!("{again:?}"), format!("{expected:?}"));
}
