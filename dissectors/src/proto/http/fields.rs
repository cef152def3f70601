//! HTTP's fields, under Wireshark's names and types (`tshark -G fields`), and the header-name →
//! field table.

use crate::field::{FieldDef, Group, Kind, Proto, Severity};

pub static PROTO: Proto = Proto {
    name: "http",
    long_name: "Hypertext Transfer Protocol",
    fields: &[
        &CHAT,
        &REQUEST_METHOD,
        &REQUEST_URI,
        &REQUEST_VERSION,
        &RESPONSE_VERSION,
        &RESPONSE_CODE,
        &RESPONSE_CODE_DESC,
        &RESPONSE_PHRASE,
        &REQUEST_LINE,
        &RESPONSE_LINE,
        &CONTENT_LENGTH,
        &FULL_URI,
        &REQUEST,
        &RESPONSE,
        &REQUEST_NUMBER,
        &RESPONSE_NUMBER,
        &PREV_REQUEST_IN,
        &PREV_RESPONSE_IN,
        &REQUEST_IN,
        &RESPONSE_FOR_URI,
        &TIME,
        &CHUNK_SIZE,
        &CHUNK_DATA,
        &CHUNK_BOUNDARY,
        &TRAILER_PART,
        &FILE_DATA,
        &HOST,
        &USER_AGENT,
        &CONTENT_TYPE,
        &CONTENT_LENGTH_HEADER,
        &CONTENT_ENCODING,
        &TRANSFER_ENCODING,
        &UPGRADE,
        &CONNECTION,
        &COOKIE,
        &SET_COOKIE,
        &ACCEPT,
        &ACCEPT_LANGUAGE,
        &ACCEPT_ENCODING,
        &REFERER,
        &DATE,
        &CACHE_CONTROL,
        &SERVER,
        &LOCATION,
        &LAST_MODIFIED,
        &X_FORWARDED_FOR,
        &AUTHORIZATION,
        &WWW_AUTHENTICATE,
        &PROXY_AUTHORIZATION,
        &PROXY_AUTHENTICATE,
        &HTTP2_SETTINGS,
        &SEC_WEBSOCKET_ACCEPT,
        &SEC_WEBSOCKET_EXTENSIONS,
        &SEC_WEBSOCKET_KEY,
        &SEC_WEBSOCKET_PROTOCOL,
        &SEC_WEBSOCKET_VERSION,
    ],
    summary: &[],
};

pub static REQUEST_METHOD: FieldDef =
    FieldDef::new("http.request.method", "Request Method", Kind::Str).ascii();
pub static REQUEST_URI: FieldDef = FieldDef::new("http.request.uri", "Request URI", Kind::Str).ascii();
pub static REQUEST_VERSION: FieldDef =
    FieldDef::new("http.request.version", "Request Version", Kind::Str).ascii();
pub static RESPONSE_VERSION: FieldDef =
    FieldDef::new("http.response.version", "Response Version", Kind::Str).ascii();
pub static RESPONSE_CODE: FieldDef =
    FieldDef::new("http.response.code", "Status Code", Kind::Dec);
pub static RESPONSE_CODE_DESC: FieldDef = FieldDef::new(
    "http.response.code.desc",
    "Status Code Description",
    Kind::Str,
).ascii();
pub static RESPONSE_PHRASE: FieldDef =
    FieldDef::new("http.response.phrase", "Response Phrase", Kind::Str).ascii();
/// The expert note tshark puts on every request and status line.
pub static CHAT: FieldDef =
    FieldDef::new("http.chat", "Chat", Kind::None).expert(Severity::Chat, Group::Sequence);
pub static REQUEST_LINE: FieldDef = FieldDef::new("http.request.line", "Request line", Kind::Str).ascii();
pub static RESPONSE_LINE: FieldDef =
    FieldDef::new("http.response.line", "Response line", Kind::Str).ascii();
pub static CONTENT_LENGTH: FieldDef =
    FieldDef::new("http.content_length", "Content length", Kind::Dec);
pub static FULL_URI: FieldDef =
    FieldDef::new("http.request.full_uri", "Full request URI", Kind::Str).ascii();
pub static REQUEST: FieldDef = FieldDef::new("http.request", "Request", Kind::Bool);
pub static RESPONSE: FieldDef = FieldDef::new("http.response", "Response", Kind::Bool);
pub static REQUEST_NUMBER: FieldDef =
    FieldDef::new("http.request_number", "Request number", Kind::Dec);
pub static RESPONSE_NUMBER: FieldDef =
    FieldDef::new("http.response_number", "Response number", Kind::Dec);
pub static PREV_REQUEST_IN: FieldDef =
    FieldDef::new("http.prev_request_in", "Prev request in frame", Kind::Dec);
pub static PREV_RESPONSE_IN: FieldDef =
    FieldDef::new("http.prev_response_in", "Prev response in frame", Kind::Dec);
pub static REQUEST_IN: FieldDef = FieldDef::new("http.request_in", "Request in frame", Kind::Dec);
pub static RESPONSE_FOR_URI: FieldDef =
    FieldDef::new("http.response_for.uri", "Request URI", Kind::Str).ascii();
pub static TIME: FieldDef = FieldDef::new("http.time", "Time since request", Kind::RelTime);
pub static CHUNK_SIZE: FieldDef = FieldDef::new("http.chunk_size", "Chunk size", Kind::Dec);
pub static CHUNK_DATA: FieldDef = FieldDef::new("http.chunk_data", "Chunk data", Kind::Bytes);
pub static CHUNK_BOUNDARY: FieldDef =
    FieldDef::new("http.chunk_boundary", "Chunk boundary", Kind::Bytes);
pub static TRAILER_PART: FieldDef =
    FieldDef::new("http.chunked_trailer_part", "trailer-part", Kind::Str).ascii();
pub static FILE_DATA: FieldDef = FieldDef::new("http.file_data", "File Data", Kind::Str).ascii();

pub static HOST: FieldDef = FieldDef::new("http.host", "Host", Kind::Str).ascii();
pub static USER_AGENT: FieldDef = FieldDef::new("http.user_agent", "User-Agent", Kind::Str).ascii();
pub static CONTENT_TYPE: FieldDef = FieldDef::new("http.content_type", "Content-Type", Kind::Str).ascii();
pub static CONTENT_LENGTH_HEADER: FieldDef =
    FieldDef::new("http.content_length_header", "Content-Length", Kind::Str).ascii();
pub static CONTENT_ENCODING: FieldDef =
    FieldDef::new("http.content_encoding", "Content-Encoding", Kind::Str).ascii();
pub static TRANSFER_ENCODING: FieldDef =
    FieldDef::new("http.transfer_encoding", "Transfer-Encoding", Kind::Str).ascii();
pub static UPGRADE: FieldDef = FieldDef::new("http.upgrade", "Upgrade", Kind::Str).ascii();
pub static CONNECTION: FieldDef = FieldDef::new("http.connection", "Connection", Kind::Str).ascii();
pub static COOKIE: FieldDef = FieldDef::new("http.cookie", "Cookie", Kind::Str).ascii();
pub static SET_COOKIE: FieldDef = FieldDef::new("http.set_cookie", "Set-Cookie", Kind::Str).ascii();
pub static ACCEPT: FieldDef = FieldDef::new("http.accept", "Accept", Kind::Str).ascii();
pub static ACCEPT_LANGUAGE: FieldDef =
    FieldDef::new("http.accept_language", "Accept-Language", Kind::Str).ascii();
pub static ACCEPT_ENCODING: FieldDef =
    FieldDef::new("http.accept_encoding", "Accept Encoding", Kind::Str).ascii();
pub static REFERER: FieldDef = FieldDef::new("http.referer", "Referer", Kind::Str).ascii();
pub static DATE: FieldDef = FieldDef::new("http.date", "Date", Kind::Str).ascii();
pub static CACHE_CONTROL: FieldDef =
    FieldDef::new("http.cache_control", "Cache-Control", Kind::Str).ascii();
pub static SERVER: FieldDef = FieldDef::new("http.server", "Server", Kind::Str).ascii();
pub static LOCATION: FieldDef = FieldDef::new("http.location", "Location", Kind::Str).ascii();
pub static LAST_MODIFIED: FieldDef =
    FieldDef::new("http.last_modified", "Last-Modified", Kind::Str).ascii();
pub static X_FORWARDED_FOR: FieldDef =
    FieldDef::new("http.x_forwarded_for", "X-Forwarded-For", Kind::Str).ascii();
pub static AUTHORIZATION: FieldDef =
    FieldDef::new("http.authorization", "Authorization", Kind::Str).ascii();
pub static WWW_AUTHENTICATE: FieldDef =
    FieldDef::new("http.www_authenticate", "WWW-Authenticate", Kind::Str).ascii();
pub static PROXY_AUTHORIZATION: FieldDef =
    FieldDef::new("http.proxy_authorization", "Proxy-Authorization", Kind::Str).ascii();
pub static PROXY_AUTHENTICATE: FieldDef =
    FieldDef::new("http.proxy_authenticate", "Proxy-Authenticate", Kind::Str).ascii();
pub static HTTP2_SETTINGS: FieldDef =
    FieldDef::new("http.http2_settings", "HTTP2-Settings", Kind::Str).ascii();
pub static SEC_WEBSOCKET_ACCEPT: FieldDef =
    FieldDef::new("http.sec_websocket_accept", "Sec-WebSocket-Accept", Kind::Str).ascii();
pub static SEC_WEBSOCKET_EXTENSIONS: FieldDef = FieldDef::new(
    "http.sec_websocket_extensions",
    "Sec-WebSocket-Extensions",
    Kind::Str,
).ascii();
pub static SEC_WEBSOCKET_KEY: FieldDef =
    FieldDef::new("http.sec_websocket_key", "Sec-WebSocket-Key", Kind::Str).ascii();
pub static SEC_WEBSOCKET_PROTOCOL: FieldDef = FieldDef::new(
    "http.sec_websocket_protocol",
    "Sec-WebSocket-Protocol",
    Kind::Str,
).ascii();
pub static SEC_WEBSOCKET_VERSION: FieldDef = FieldDef::new(
    "http.sec_websocket_version",
    "Sec-WebSocket-Version",
    Kind::Str,
).ascii();

/// Headers Wireshark gives their own field (lowercase name → field). Others are shown only as
/// `http.request.line` / `http.response.line`.
static HEADER_FIELDS: &[(&str, &FieldDef)] = &[
    ("host", &HOST),
    ("user-agent", &USER_AGENT),
    ("content-type", &CONTENT_TYPE),
    ("content-length", &CONTENT_LENGTH_HEADER),
    ("content-encoding", &CONTENT_ENCODING),
    ("transfer-encoding", &TRANSFER_ENCODING),
    ("upgrade", &UPGRADE),
    ("connection", &CONNECTION),
    ("cookie", &COOKIE),
    ("set-cookie", &SET_COOKIE),
    ("accept", &ACCEPT),
    ("accept-language", &ACCEPT_LANGUAGE),
    ("accept-encoding", &ACCEPT_ENCODING),
    ("referer", &REFERER),
    ("date", &DATE),
    ("cache-control", &CACHE_CONTROL),
    ("server", &SERVER),
    ("location", &LOCATION),
    ("last-modified", &LAST_MODIFIED),
    ("x-forwarded-for", &X_FORWARDED_FOR),
    ("authorization", &AUTHORIZATION),
    ("www-authenticate", &WWW_AUTHENTICATE),
    ("proxy-authorization", &PROXY_AUTHORIZATION),
    ("proxy-authenticate", &PROXY_AUTHENTICATE),
    ("http2-settings", &HTTP2_SETTINGS),
    ("sec-websocket-accept", &SEC_WEBSOCKET_ACCEPT),
    ("sec-websocket-extensions", &SEC_WEBSOCKET_EXTENSIONS),
    ("sec-websocket-key", &SEC_WEBSOCKET_KEY),
    ("sec-websocket-protocol", &SEC_WEBSOCKET_PROTOCOL),
    ("sec-websocket-version", &SEC_WEBSOCKET_VERSION),
];

/// The fields of the headers Wireshark names.
pub fn header_fields() -> impl Iterator<Item = &'static FieldDef> {
    HEADER_FIELDS.iter().map(|(_, f)| *f)
}

/// The field of a header name, if Wireshark has one.
pub fn header_field(name: &[u8]) -> Option<&'static FieldDef> {
    HEADER_FIELDS
        .iter()
        .find(|(n, _)| n.len() == name.len() && n.as_bytes().eq_ignore_ascii_case(name))
        .map(|(_, f)| *f)
}

/// Reason phrases of the status codes, as Wireshark's `vals_http_status_code` (shared by
/// HTTP and HTTP/2): RFC 9110 §15's registered codes, plus a catch-all name per class.
pub fn status_name(code: u64) -> Option<&'static str> {
    Some(match code {
        100 => "Continue",
        101 => "Switching Protocols",
        102 => "Processing",
        103 => "Early Hints",
        199 => "Informational - Others",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        203 => "Non-authoritative Information",
        204 => "No Content",
        205 => "Reset Content",
        206 => "Partial Content",
        207 => "Multi-Status",
        208 => "Already Reported",
        226 => "IM Used",
        299 => "Success - Others",
        300 => "Multiple Choices",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        305 => "Use Proxy",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        399 => "Redirection - Others",
        400 => "Bad Request",
        401 => "Unauthorized",
        402 => "Payment Required",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        407 => "Proxy Authentication Required",
        408 => "Request Time-out",
        409 => "Conflict",
        410 => "Gone",
        411 => "Length Required",
        412 => "Precondition Failed",
        413 => "Request Entity Too Large",
        414 => "Request-URI Too Long",
        415 => "Unsupported Media Type",
        416 => "Requested Range Not Satisfiable",
        417 => "Expectation Failed",
        418 => "I'm a teapot",
        421 => "Misdirected Request",
        422 => "Unprocessable Entity",
        423 => "Locked",
        424 => "Failed Dependency",
        425 => "Too Early",
        426 => "Upgrade Required",
        428 => "Precondition Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        451 => "Unavailable For Legal Reasons",
        499 => "Client Error - Others",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Time-out",
        505 => "HTTP Version not supported",
        506 => "Variant Also Negotiates",
        507 => "Insufficient Storage",
        508 => "Loop Detected",
        510 => "Not Extended",
        511 => "Network Authentication Required",
        599 => "Server Error - Others",
        _ => return None,
    })
}
