//! The X.509 parts of TLS messages: certificates (issuer, subject, extensions) and the
//! distinguished names of a CertificateRequest, parsed by `x509-parser`.
//!
//! Wireshark hands every attribute value, algorithm parameter and extension of a certificate to
//! the dissector registered for its OID, and each such call is an entry of `frame.protocols`
//! (`x509sat` for name attributes, `x509ce` for standard extensions, `pkcs-1` for EC and
//! RSASSA-PSS parameters …). [`oid_dissector`] is that registry for the OIDs certificates
//! carry; the walk below follows Wireshark's order: signature algorithm, issuer, subject, public
//! key algorithm, extensions (with what they contain: directory names, policy qualifiers, the
//! SCT list that Wireshark's TLS dissector reads), outer signature algorithm.
//!
//! Name attributes are emitted under Wireshark's field for their syntax: a DirectoryString's
//! choice (`x509sat.uTF8String`, `printableString` …), `x509sat.CountryName`,
//! `x509sat.PrintableString` (serialNumber), `x509sat.IA5String` (emailAddress, dc).

use super::handshake::{malformed, pos_of, signature_schemes, At, Rd};
use super::{Emit, *};
use x509_parser::asn1_rs::{Any, Tag};
use x509_parser::extensions::{DistributionPointName, GeneralName, ParsedExtension, X509Extension};
use x509_parser::prelude::{FromDer, X509CertificateParser, X509Name};
use x509_parser::x509::AlgorithmIdentifier;

/// The arcs under id-ce (2.5.29) that Wireshark's `x509ce` registers (packet-x509ce.c).
const X509CE_ARCS: &[&str] = &[
    "9", "14", "15", "16", "17", "18", "19", "20", "21", "23", "24", "27", "28", "29", "30", "31",
    "32", "33", "35", "36", "37", "40", "44", "45", "46", "47", "51", "53", "54",
];

/// The dissector Wireshark's BER OID table sends `oid` (dotted) to, as `frame.protocols` names
/// it; `None` for an OID it does not dissect.
pub fn oid_dissector(oid: &str) -> Option<&'static str> {
    let (arc, last) = oid.rsplit_once('.')?;
    let p = match (arc, last) {
        // X.520 attributes and the PKCS #9, LDAP, Netscape and Microsoft ones x509sat knows.
        ("2.5.4" | "2.5.18", _) => "x509sat",
        ("1.2.840.113549.1.9", "1" | "7" | "8" | "13" | "20" | "21") => "x509sat",
        ("1.2.840.113549.1.9.25", "3" | "4") => "x509sat",
        ("1.3.6.1.5.5.7.9", "1" | "2" | "3" | "4" | "5") => "x509sat",
        ("0.9.2342.19200300.100.1", "25") => "x509sat",
        ("2.16.840.1.113730.3.1", "1" | "2" | "3" | "4" | "39" | "241") => "x509sat",
        ("1.3.6.1.4.1.311.20", "2") | ("1.3.6.1.4.1.311.20.2", "3") => "x509sat",
        ("1.3.6.1.4.1.311.17", "1") => "x509sat",
        ("1.3.6.1.4.1.311.21", "1" | "2" | "3" | "4") => "x509sat",
        ("1.3.6.1.4.1.311.60.2.1", "1" | "2" | "3") => "x509sat",
        // Certificate extensions.
        ("2.5.29", a) if X509CE_ARCS.contains(&a) => "x509ce",
        ("1.3.6.1.4.1.311.21", "7" | "10") => "x509ce",
        ("1.3.6.1.5.5.7.1", "1" | "11") => "pkix1implicit",
        ("1.3.6.1.5.5.7.1", "14") => "pkixproxy",
        ("1.3.6.1.5.5.7.1", "12") => "logotypecertextn",
        ("2.16.840.1.113730.1", _) => "ns_cert_exts",
        ("1.3.6.1.4.1.11129.2.4", "2") => "tls",
        // OCSP extensions (nonce, CRL references, no-check …).
        ("1.3.6.1.5.5.7.48.1", "2" | "3" | "4" | "5" | "6" | "7" | "9") => "ocsp",
        // Policy qualifiers.
        ("1.3.6.1.5.5.7.2", "1") => "pkix1explicit",
        ("1.3.6.1.5.5.7.2", "2") => "pkix1implicit",
        // Algorithm parameters: ECParameters, RSASSA-PSS-params, Dss-Parms.
        ("1.2.840.10045.2", "1") | ("1.2.840.113549.1.1", "10") => "pkcs-1",
        ("1.2.840.10040.4", "1") => "x509af",
        _ => return None,
    };
    Some(p)
}

/// Wireshark's name of an OID (its `oids` table, for the OIDs certificates commonly carry).
pub fn oid_name(oid: &str) -> Option<&'static str> {
    Some(match oid {
        "2.5.4.3" => "id-at-commonName",
        "2.5.4.4" => "id-at-surname",
        "2.5.4.5" => "id-at-serialNumber",
        "2.5.4.6" => "id-at-countryName",
        "2.5.4.7" => "id-at-localityName",
        "2.5.4.8" => "id-at-stateOrProvinceName",
        "2.5.4.9" => "id-at-streetAddress",
        "2.5.4.10" => "id-at-organizationName",
        "2.5.4.11" => "id-at-organizationalUnitName",
        "2.5.4.12" => "id-at-title",
        "2.5.4.42" => "id-at-givenName",
        "1.2.840.113549.1.9.1" => "pkcs-9-at-emailAddress",
        "1.2.840.113549.1.1.1" => "rsaEncryption",
        "1.2.840.113549.1.1.5" => "sha1WithRSAEncryption",
        "1.2.840.113549.1.1.10" => "id-RSASSA-PSS",
        "1.2.840.113549.1.1.11" => "sha256WithRSAEncryption",
        "1.2.840.113549.1.1.12" => "sha384WithRSAEncryption",
        "1.2.840.113549.1.1.13" => "sha512WithRSAEncryption",
        "1.2.840.10045.2.1" => "id-ecPublicKey",
        "1.2.840.10045.4.3.2" => "ecdsa-with-SHA256",
        "1.2.840.10045.4.3.3" => "ecdsa-with-SHA384",
        "1.2.840.10045.4.3.4" => "ecdsa-with-SHA512",
        "2.5.29.14" => "id-ce-subjectKeyIdentifier",
        "2.5.29.15" => "id-ce-keyUsage",
        "2.5.29.17" => "id-ce-subjectAltName",
        "2.5.29.18" => "id-ce-issuerAltName",
        "2.5.29.19" => "id-ce-basicConstraints",
        "2.5.29.31" => "id-ce-cRLDistributionPoints",
        "2.5.29.32" => "id-ce-certificatePolicies",
        "2.5.29.35" => "id-ce-authorityKeyIdentifier",
        "2.5.29.37" => "id-ce-extKeyUsage",
        "1.3.6.1.5.5.7.1.1" => "id-pe-authorityInfoAccess",
        "1.3.6.1.5.5.7.3.1" => "id-kp-serverAuth",
        "1.3.6.1.5.5.7.3.2" => "id-kp-clientAuth",
        "1.3.6.1.5.5.7.3.3" => "id-kp-codeSigning",
        "1.3.6.1.5.5.7.3.4" => "id-kp-emailProtection",
        "1.3.6.1.5.5.7.3.8" => "id-kp-timeStamping",
        "1.3.6.1.5.5.7.3.9" => "id-kp-OCSPSigning",
        _ => return None,
    })
}

/// An OID as `-V` shows it: `2.5.4.3 (id-at-commonName)`, or the dotted form alone.
fn oid_text(oid: &str, t: &mut String) {
    t.push_str(oid);
    if let Some(n) = oid_name(oid) {
        let _ = write!(t, " ({n})");
    }
}

/// An OID's name, else its dotted form (`signature (sha256WithRSAEncryption)`).
fn oid_label(oid: &str) -> &str {
    oid_name(oid).unwrap_or(oid)
}

/// `N item` / `N items`.
fn items(n: usize, t: &mut String) {
    let _ = write!(t, "{n} item{}", if n == 1 { "" } else { "s" });
}

/// The names of the choices and versions `-V` shows.
pub fn version_name(v: u64) -> Option<&'static str> {
    Some(match v {
        0 => "v1",
        1 => "v2",
        2 => "v3",
        _ => return None,
    })
}

pub fn time_choice(v: u64) -> Option<&'static str> {
    Some(match v {
        0 => "utcTime",
        1 => "generalTime",
        _ => return None,
    })
}

pub fn general_name_choice(v: u64) -> Option<&'static str> {
    Some(match v {
        0 => "otherName",
        1 => "rfc822Name",
        2 => "dNSName",
        3 => "x400Address",
        4 => "directoryName",
        5 => "ediPartyName",
        6 => "uniformResourceIdentifier",
        7 => "iPAddress",
        8 => "registeredID",
        _ => return None,
    })
}

pub fn directory_choice(v: u64) -> Option<&'static str> {
    Some(match v {
        0 => "teletexString",
        1 => "printableString",
        2 => "universalString",
        3 => "bmpString",
        4 => "uTF8String",
        _ => return None,
    })
}

/// A name as Wireshark summarises it: the RDNs last first, `type=value` joined by commas.
fn name_summary(name: &X509Name<'_>, t: &mut String) {
    let rdns: Vec<_> = name.iter_rdn().collect();
    for (i, rdn) in rdns.iter().rev().enumerate() {
        if i > 0 {
            t.push(',');
        }
        rdn_summary(rdn, t);
    }
}

fn rdn_summary(rdn: &x509_parser::x509::RelativeDistinguishedName<'_>, t: &mut String) {
    for (j, attr) in rdn.iter().enumerate() {
        if j > 0 {
            t.push('+');
        }
        let oid = attr.attr_type().to_id_string();
        let _ = write!(t, "{}=", oid_label(&oid));
        let v = attr.attr_value();
        match v.tag() {
            Tag::BmpString => t.push_str(&utf16(v.data)),
            Tag::UniversalString => t.push_str(&ucs4(v.data)),
            _ => t.push_str(&String::from_utf8_lossy(v.data)),
        }
    }
}

/// How Wireshark reads a name attribute's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Syntax {
    /// A DirectoryString CHOICE: the field is the chosen string type.
    Directory,
    Country,
    /// SyntaxPrintableString (serialNumber, dnQualifier).
    Printable,
    /// SyntaxIA5String (emailAddress, domainComponent).
    Ia5,
    /// SyntaxBMPString (friendlyName, certificate template name).
    Bmp,
}

fn attribute_syntax(oid: &str) -> Option<Syntax> {
    Some(match oid {
        "2.5.4.6" | "1.3.6.1.4.1.311.60.2.1.3" => Syntax::Country,
        "2.5.4.5" | "2.5.4.46" => Syntax::Printable,
        "1.2.840.113549.1.9.1" | "0.9.2342.19200300.100.1.25" => Syntax::Ia5,
        "1.2.840.113549.1.9.20" | "1.3.6.1.4.1.311.20.2" => Syntax::Bmp,
        _ if oid_dissector(oid) == Some("x509sat") => Syntax::Directory,
        _ => return None,
    })
}

/// UTF-16BE text (BMPString), lossily.
fn utf16(data: &[u8]) -> String {
    char::decode_utf16(data.chunks_exact(2).map(|c| crate::proto::bytes::be16(c, 0)))
        .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect()
}

/// UCS-4 text (UniversalString), lossily.
fn ucs4(data: &[u8]) -> String {
    data.chunks_exact(4)
        .map(|c| {
            let cp = u32::from_be_bytes([
                c.first().copied().unwrap_or(0),
                c.get(1).copied().unwrap_or(0),
                c.get(2).copied().unwrap_or(0),
                c.get(3).copied().unwrap_or(0),
            ]);
            char::from_u32(cp).unwrap_or(char::REPLACEMENT_CHARACTER)
        })
        .collect()
}

/// An attribute value under the field its syntax and string type give.
fn attribute_value(syntax: Syntax, v: &Any<'_>, span: Span, e: &mut Emit<'_, '_>) {
    let text = Value::Text(v.data);
    match (syntax, v.tag()) {
        (Syntax::Country, _) => e.field(&X509_COUNTRY, span, text),
        (Syntax::Printable, _) => e.field(&X509_SYNTAX_PRINTABLE, span, text),
        (Syntax::Ia5, _) => e.field(&X509_IA5, span, text),
        (Syntax::Bmp, _) => e.field(&X509_SYNTAX_BMP, span, Value::Str(&utf16(v.data))),
        (Syntax::Directory, Tag::Utf8String) => e.field(&X509_UTF8, span, text),
        (Syntax::Directory, Tag::PrintableString) => e.field(&X509_PRINTABLE, span, text),
        (Syntax::Directory, Tag::TeletexString) => e.field(&X509_TELETEX, span, text),
        (Syntax::Directory, Tag::BmpString) => {
            e.field(&X509_BMP, span, Value::Str(&utf16(v.data)))
        }
        (Syntax::Directory, Tag::UniversalString) => {
            e.field(&X509_UNIVERSAL, span, Value::Str(&ucs4(v.data)))
        }
        // Not a DirectoryString choice: Wireshark reports a BER error, no string.
        (Syntax::Directory, _) => {}
    }
}

/// A distinguished name: the `x509sat` entries of its attributes, then (when fields are wanted)
/// the RDN sequence with each attribute's OID and value. `wrap` is the `x509af.issuer` /
/// `subject` item it hangs under, if any.
fn x509_name(
    wrap: Option<&'static FieldDef>,
    name: &X509Name<'_>,
    der: &[u8],
    at: At,
    e: &mut Emit<'_, '_>,
) {
    x509_name_as(wrap, true, name, der, at, e);
}

/// [`x509_name`]; `rdn_sequence`: draw the `rdnSequence` item (a CertificateRequest's
/// distinguished names have their RDN items straight under them).
fn x509_name_as(
    wrap: Option<&'static FieldDef>,
    rdn_sequence: bool,
    name: &X509Name<'_>,
    der: &[u8],
    at: At,
    e: &mut Emit<'_, '_>,
) {
    let on = e.on();
    let raw = name.as_raw();
    let span = at.span(pos_of(der, raw), raw.len());
    if let Some(def) = wrap {
        e.field(def, span, Value::U(0));
        e.open();
    }
    if rdn_sequence {
        let n = name.iter_rdn().count();
        e.field_shown(&X509_RDN_SEQUENCE, span, Value::U(n as u64), |t| {
            items(n, t);
            t.push_str(" (");
            name_summary(name, t);
            t.push(')');
        });
        e.open();
    }
    for rdn in name.iter_rdn() {
        let n = rdn.iter().count();
        let rdn_span = at.span(pos_of(der, rdn_raw(rdn)), rdn_raw(rdn).len());
        e.field_shown(&X509_RDN_ITEM, rdn_span, Value::U(n as u64), |t| {
            items(n, t);
            t.push_str(" (");
            rdn_summary(rdn, t);
            t.push(')');
        });
        e.open();
        for attr in rdn.iter() {
            let oid = attr.attr_type().to_id_string();
            if let Some(p) = oid_dissector(&oid) {
                e.push_proto(p);
            }
            if on {
                e.field_line(&X509_RDN_ELEMENT, rdn_span, Value::None, |t| {
                    t.push_str(X509_RDN_ELEMENT.label);
                    t.push_str(" (");
                    rdn_summary(rdn, t);
                    t.push(')');
                });
                e.open();
                e.field_shown(&X509_OID, rdn_span, Value::Str(&oid), |t| oid_text(&oid, t));
                if let Some(syntax) = attribute_syntax(&oid) {
                    let v = attr.attr_value();
                    let vspan = at.span(pos_of(der, v.data), v.data.len());
                    let choice = match v.tag() {
                        Tag::TeletexString => Some(0),
                        Tag::PrintableString => Some(1),
                        Tag::UniversalString => Some(2),
                        Tag::BmpString => Some(3),
                        Tag::Utf8String => Some(4),
                        _ => None,
                    };
                    // A DirectoryString shows its choice, the string under it.
                    let directory = syntax == Syntax::Directory && choice.is_some();
                    if directory {
                        e.field(&X509_DIRECTORY_STRING, vspan, Value::U(choice.unwrap_or(0)));
                        e.open();
                    }
                    attribute_value(syntax, v, vspan, e);
                    if directory {
                        e.close();
                    }
                }
                e.close();
            }
        }
        e.close();
    }
    if rdn_sequence {
        e.close();
    }
    if wrap.is_some() {
        e.close();
    }
}

/// The DER bytes of one RDN (its SET), for spans: its first attribute's, widened by nothing
/// more than x509-parser keeps.
fn rdn_raw<'a>(rdn: &x509_parser::x509::RelativeDistinguishedName<'a>) -> &'a [u8] {
    rdn.iter().next().map_or(&[][..], |a| a.attr_value().data)
}

/// The directory names inside general names (their attributes are `x509sat` too).
fn general_names(names: &[GeneralName<'_>], der: &[u8], at: At, e: &mut Emit<'_, '_>) {
    for n in names {
        if let GeneralName::DirectoryName(name) = n {
            x509_name(None, name, der, at, e);
        }
    }
}

/// An AlgorithmIdentifier: its parameters' dissector, if Wireshark has one. Explicit EC
/// domain parameters (a SEQUENCE rather than a named curve) call `pkcs-1` once more for their
/// field type.
fn algorithm(alg: &AlgorithmIdentifier<'_>, e: &mut Emit<'_, '_>) {
    if let Some(p) = oid_dissector(&alg.algorithm.to_id_string()) {
        e.push_proto(p);
        let explicit_curve = alg.parameters.as_ref().is_some_and(|a| a.tag() == Tag::Sequence);
        if p == "pkcs-1" && explicit_curve {
            e.push_proto(p);
        }
    }
}

/// One certificate extension: the `frame.protocols` entries of the Wireshark dissectors that
/// handle it (and of what they call inside), and its id.
fn extension(x: &X509Extension<'_>, der: &[u8], at: At, e: &mut Emit<'_, '_>) {
    let id = x.oid.to_id_string();
    let span = at.span(pos_of(der, x.value), x.value.len());
    e.field_line(&X509_EXTENSION, span, Value::None, |t| {
        let _ = write!(t, "Extension ({})", oid_label(&id));
    });
    e.open();
    if e.on() {
        e.field_shown(&X509_EXTENSION_ID, span, Value::Str(&id), |t| oid_text(&id, t));
        if x.critical {
            e.field(&X509_CRITICAL, span, Value::Bool(true));
        }
        extension_contents(x, span, e);
    }
    e.close();
    let Some(p) = oid_dissector(&id) else {
        return;
    };
    e.push_proto(p);
    match x.parsed_extension() {
        ParsedExtension::SubjectAlternativeName(san) => {
            general_names(&san.general_names, der, at, e)
        }
        ParsedExtension::IssuerAlternativeName(ian) => {
            general_names(&ian.general_names, der, at, e)
        }
        ParsedExtension::AuthorityKeyIdentifier(aki) => {
            general_names(aki.authority_cert_issuer.as_deref().unwrap_or(&[]), der, at, e)
        }
        ParsedExtension::CRLDistributionPoints(points) => {
            for p in points.iter() {
                if let Some(DistributionPointName::FullName(names)) = &p.distribution_point {
                    general_names(names, der, at, e);
                }
                general_names(p.crl_issuer.as_deref().unwrap_or(&[]), der, at, e);
            }
        }
        ParsedExtension::CertificatePolicies(policies) => {
            let qualifiers = policies
                .iter()
                .flat_map(|p| p.policy_qualifiers.iter().flatten());
            for q in qualifiers {
                if let Some(p) = oid_dissector(&q.policy_qualifier_id.to_id_string()) {
                    e.push_proto(p);
                }
            }
        }
        _ if p == "tls" => sct_list(x.value, der, at, e),
        _ => {}
    }
}

/// What a standard extension holds, as Wireshark's x509ce tree shows it.
fn extension_contents(x: &X509Extension<'_>, span: Span, e: &mut Emit<'_, '_>) {
    match x.parsed_extension() {
        ParsedExtension::SubjectAlternativeName(san) => {
            let n = san.general_names.len();
            e.field_shown(&X509CE_GENERAL_NAMES, span, Value::U(n as u64), |t| items(n, t));
            e.open();
            for g in &san.general_names {
                if let GeneralName::DNSName(d) = g {
                    e.field(&X509CE_GENERAL_NAME, span, Value::U(2));
                    e.open();
                    e.field(&X509CE_DNS_NAME, span, Value::Str(d));
                    e.close();
                }
            }
            e.close();
        }
        ParsedExtension::ExtendedKeyUsage(_) => {
            // In their order (x509-parser sorts them into flags): the DER SEQUENCE of OIDs.
            let mut oids = Vec::new();
            if let Some((0x30, _, list)) = der_tlv(&mut Rd::new(x.value)) {
                let mut r = Rd::new(list);
                while let Some((0x06, _, oid)) = der_tlv(&mut r) {
                    oids.push(x509_parser::asn1_rs::Oid::new(oid.into()).to_id_string());
                }
            }
            e.field_shown(&X509CE_KEY_PURPOSE_IDS, span, Value::U(oids.len() as u64), |t| items(oids.len(), t));
            e.open();
            for oid in &oids {
                e.field_shown(&X509CE_KEY_PURPOSE_ID, span, Value::Str(oid), |t| oid_text(oid, t));
            }
            e.close();
        }
        ParsedExtension::SubjectKeyIdentifier(k) => e.field(&X509CE_SKI, span, Value::Bytes(k.0)),
        ParsedExtension::AuthorityKeyIdentifier(aki) => {
            e.field(&X509CE_AKI, span, Value::None);
            e.open();
            if let Some(k) = &aki.key_identifier {
                e.field(&X509CE_KEY_IDENTIFIER, span, Value::Bytes(k.0));
            }
            e.close();
        }
        ParsedExtension::BasicConstraints(bc) => {
            e.field(&X509CE_BASIC_CONSTRAINTS, span, Value::None);
            e.open();
            if bc.ca {
                e.field(&X509CE_CA, span, Value::Bool(true));
            }
            if let Some(n) = bc.path_len_constraint {
                e.field(&X509CE_PATH_LEN, span, Value::U(u64::from(n)));
            }
            e.close();
        }
        _ => {}
    }
}

/// A Certificate Transparency SCT list (RFC 6962 §3.3): a DER OCTET STRING holding the
/// TLS-encoded list, shown with Wireshark's `tls.sct.*` fields.
fn sct_list(value: &[u8], der: &[u8], at: At, e: &mut Emit<'_, '_>) {
    // The OCTET STRING header: tag 4, then a short or long-form length.
    let mut r = Rd::new(value);
    let inner = match (r.u8(), r.u8()) {
        (Some(0x04), Some(n)) if n < 0x80 => r.take(n.into()),
        (Some(0x04), Some(0x81)) => r.u8().and_then(|n| r.take(n.into())),
        (Some(0x04), Some(0x82)) => r.u16().and_then(|n| r.take(n.into())),
        _ => None,
    };
    let Some(list) = inner else {
        return;
    };
    let base = at.add(pos_of(der, list));
    let mut r = Rd::new(list);
    let Some(scts) = r.u16().and_then(|n| r.take(n.into())) else {
        return;
    };
    e.field(&SCT_SCTS_LENGTH, base.span(0, 2), Value::U(scts.len() as u64));
    let mut r = Rd::new(scts);
    while !r.is_empty() {
        let p = 2 + r.pos();
        let Some(sct) = r.u16().and_then(|n| r.take(n.into())) else {
            return;
        };
        let b = base.add(p);
        e.field(&SCT_SCT_LENGTH, b.span(0, 2), Value::U(sct.len() as u64));
        let mut s = Rd::new(sct);
        let (Some(version), Some(log_id), Some(_timestamp)) = (s.u8(), s.take(32), s.take(8))
        else {
            return;
        };
        e.field(&SCT_VERSION, b.span(2, 1), Value::U(version.into()));
        e.field(&SCT_LOGID, b.span(3, 32), Value::Bytes(log_id));
        let q = 2 + s.pos();
        let Some(exts) = s.u16().and_then(|n| s.take(n.into())) else {
            return;
        };
        e.field(&SCT_EXTENSIONS_LENGTH, b.span(q, 2), Value::U(exts.len() as u64));
        let q = 2 + s.pos();
        let Some(alg) = s.take(2) else {
            return;
        };
        signature_schemes(alg, b.add(q), e);
        let q = 2 + s.pos();
        let Some(sig) = s.u16().and_then(|n| s.take(n.into())) else {
            return;
        };
        e.field(&SCT_SIGNATURE_LENGTH, b.span(q, 2), Value::U(sig.len() as u64));
        e.field(&SCT_SIGNATURE, b.span(q + 2, sig.len()), Value::Bytes(sig));
    }
}

/// One DER certificate (`at` is where `der` starts): its X.509 layers and fields, in
/// Wireshark's order.
pub(crate) fn x509_certificate(der: &[u8], at: At, e: &mut Emit<'_, '_>) {
    use x509_parser::nom::Parser as _;
    let Ok((_, cert)) = X509CertificateParser::new().parse(der) else {
        e.text(at.span(0, der.len()), "Certificate is not valid DER X.509");
        return;
    };
    let tbs = &cert.tbs_certificate;
    // The certificate's line ends with its subject, as tshark's does.
    e.cx.append_open(|t| {
        t.push_str(" (");
        name_summary(cert.subject(), t);
        t.push(')');
    });
    let whole = at.span(0, der.len());
    let tbs_span = at.span(pos_of(der, tbs.as_ref()), tbs.as_ref().len());
    e.field(&X509_SIGNED_CERTIFICATE, tbs_span, Value::None);
    e.open();
    if tbs.version.0 > 0 {
        e.field(&X509_VERSION, tbs_span, Value::U(u64::from(tbs.version.0)));
    }
    let serial = tbs.raw_serial();
    e.field_shown(&X509_SERIAL, at.span(pos_of(der, serial), serial.len()), Value::Bytes(serial), |t| {
        t.push_str("0x");
        crate::field::write_display(&X509_SERIAL, &Value::Bytes(serial), t);
    });
    algorithm(&tbs.signature, e);
    algorithm_item(&X509_SIGNATURE, &tbs.signature, tbs_span, e);
    x509_name(Some(&X509_ISSUER), cert.issuer(), der, at, e);
    e.field(&X509_VALIDITY, tbs_span, Value::None);
    e.open();
    for (def, time) in [(&X509_NOT_BEFORE, &tbs.validity.not_before), (&X509_NOT_AFTER, &tbs.validity.not_after)] {
        let secs = time.timestamp();
        // DER encodes years 1950-2049 as UTCTime, others as GeneralizedTime (RFC 5280 §4.1.2.5).
        let utc = (-631_152_000..2_524_608_000).contains(&secs);
        e.field(def, tbs_span, Value::U(u64::from(!utc)));
        if utc {
            e.open();
            let mut text = String::with_capacity(32);
            crate::field::write_datetime_utc(secs, &mut text);
            text.push_str(" (UTC)");
            e.field(&X509_UTC_TIME, tbs_span, Value::Str(&text));
            e.close();
        }
    }
    e.close();
    x509_name(Some(&X509_SUBJECT), cert.subject(), der, at, e);
    let spki = &tbs.subject_pki;
    e.field(&X509_SPKI, at.span(pos_of(der, spki.raw), spki.raw.len()), Value::None);
    e.open();
    algorithm(&spki.algorithm, e);
    algorithm_item(&X509_ALGORITHM, &spki.algorithm, tbs_span, e);
    let key = &spki.subject_public_key.data;
    e.field(&X509_SUBJECT_PUBLIC_KEY, tbs_span, Value::Bytes(key));
    if let Ok(x509_parser::public_key::PublicKey::RSA(rsa)) = spki.parsed() {
        e.open();
        e.field_shown(&PKCS1_MODULUS, tbs_span, Value::Bytes(rsa.modulus), |t| {
            t.push_str("0x");
            crate::field::write_display(&PKCS1_MODULUS, &Value::Bytes(rsa.modulus), t);
        });
        if rsa.exponent.len() <= 8 {
            let v = rsa.exponent.iter().fold(0u64, |v, b| (v << 8) | u64::from(*b));
            e.field(&PKCS1_EXPONENT, tbs_span, Value::U(v));
        }
        e.close();
    }
    e.close();
    let exts = cert.extensions();
    if !exts.is_empty() {
        e.field_shown(&X509_EXTENSIONS, tbs_span, Value::U(exts.len() as u64), |t| items(exts.len(), t));
        e.open();
    }
    for x in exts {
        extension(x, der, at, e);
    }
    if !exts.is_empty() {
        e.close();
    }
    e.close();
    algorithm(&cert.signature_algorithm, e);
    algorithm_item(&X509_ALGORITHM_IDENTIFIER, &cert.signature_algorithm, whole, e);
    let sig = &cert.signature_value;
    e.field(&BER_PADDING, whole, Value::U(u64::from(sig.unused_bits)));
    e.field(&X509_ENCRYPTED, whole, Value::Bytes(&sig.data));
}

/// `signature (sha256WithRSAEncryption)` over its `Algorithm Id` (for trees: the walk's
/// [`algorithm`] gives `frame.protocols` its entries).
fn algorithm_item(def: &'static FieldDef, alg: &AlgorithmIdentifier<'_>, span: Span, e: &mut Emit<'_, '_>) {
    let oid = alg.algorithm.to_id_string();
    e.field_line(def, span, Value::None, |t| {
        let _ = write!(t, "{} ({})", def.label, oid_label(&oid));
    });
    e.open();
    e.field_shown(&X509_ALGORITHM_ID, span, Value::Str(&oid), |t| oid_text(&oid, t));
    e.close();
}


/// One DER TLV at the start of `r`: its tag, its whole bytes and its contents (definite
/// lengths up to 2^24, as DER has).
fn der_tlv<'a>(r: &mut Rd<'a>) -> Option<(u8, &'a [u8], &'a [u8])> {
    let start = *r;
    let tag = r.u8()?;
    let len = match r.u8()? {
        n if n < 0x80 => usize::from(n),
        0x81 => usize::from(r.u8()?),
        0x82 => usize::from(r.u16()?),
        0x83 => r.u24()?,
        _ => return None,
    };
    let hdr = r.pos() - start.pos();
    let content = r.take(len)?;
    let mut whole = start;
    let all = whole.take(hdr + len)?;
    Some((tag, all, content))
}

/// A stapled OCSP response (CertificateStatus, RFC 6960 §4.2.1): Wireshark's `ocsp` layer,
/// then the responder's name, the response extensions and the certificates it carries, with
/// their X.509 layers and fields. Parsing stops quietly at anything unexpected.
pub(crate) fn ocsp_response(der: &[u8], at: At, e: &mut Emit<'_, '_>) {
    e.push_proto("ocsp");
    let basic = (|| {
        let (_, _, resp) = der_tlv(&mut Rd::new(der))?; // OCSPResponse
        let mut r = Rd::new(resp);
        der_tlv(&mut r)?; // responseStatus
        let (_, _, bytes) = der_tlv(&mut r)?; // [0] responseBytes
        let (_, _, bytes) = der_tlv(&mut Rd::new(bytes))?; // ResponseBytes
        let mut r = Rd::new(bytes);
        der_tlv(&mut r)?; // responseType
        let (_, _, octets) = der_tlv(&mut r)?; // response OCTET STRING
        let (_, _, basic) = der_tlv(&mut Rd::new(octets))?; // BasicOCSPResponse
        Some(basic)
    })();
    let Some(basic) = basic else {
        return;
    };
    let mut r = Rd::new(basic);
    let Some((_, _, tbs)) = der_tlv(&mut r) else {
        return;
    };
    // tbsResponseData: [0] version?, responderID ([1] byName | [2] byKey), producedAt,
    // responses, [1] responseExtensions?: a [1] before producedAt is the name.
    let mut t = Rd::new(tbs);
    let mut produced = false;
    while let Some((tag, _, content)) = der_tlv(&mut t) {
        match tag {
            0x18 => produced = true,
            0xa1 if !produced => {
                if let Ok((_, name)) = X509Name::from_der(content) {
                    x509_name(None, &name, der, at, e);
                }
            }
            0xa1 => {
                let Some((_, _, list)) = der_tlv(&mut Rd::new(content)) else {
                    continue;
                };
                let mut l = Rd::new(list);
                while let Some((_, _, ext)) = der_tlv(&mut l) {
                    if let Some((0x06, _, oid)) = der_tlv(&mut Rd::new(ext)) {
                        let oid = x509_parser::asn1_rs::Oid::new(oid.into()).to_id_string();
                        if let Some(p) = oid_dissector(&oid) {
                            e.push_proto(p);
                        }
                    }
                }
            }
            _ => {}
        }
    }
    der_tlv(&mut r); // signatureAlgorithm
    der_tlv(&mut r); // signature
    if let Some((0xa0, _, certs)) = der_tlv(&mut r) {
        if let Some((_, _, list)) = der_tlv(&mut Rd::new(certs)) {
            let mut l = Rd::new(list);
            while let Some((_, cert, _)) = der_tlv(&mut l) {
                x509_certificate(cert, at.add(pos_of(der, cert)), e);
            }
        }
    }
}

/// A list of DER distinguished names (CertificateRequest, certificate_authorities).
pub(crate) fn distinguished_names(
    list: &[u8],
    at: At,
    e: &mut Emit<'_, '_>,
) -> Result<(), Malformed> {
    e.field_line(&DNAMES, at.span(0, list.len()), Value::None, |t| {
        let _ = write!(t, "Distinguished Names ({} bytes)", list.len());
    });
    e.open();
    let mut r = Rd::new(list);
    while !r.is_empty() {
        let p = r.pos();
        let Some(dn) = r.u16().and_then(|n| r.take(n.into())) else {
            e.close();
            return Err(malformed(p, "distinguished name overruns its list"));
        };
        e.field(&DNAME_LEN, at.span(p, 2), Value::U(dn.len() as u64));
        match X509Name::from_der(dn) {
            Ok((_, name)) => {
                e.field_line(&DNAME, at.span(p + 2, dn.len()), Value::None, |t| {
                    t.push_str("Distinguished Name: (");
                    name_summary(&name, t);
                    t.push(')');
                });
                e.open();
                x509_name_as(None, false, &name, dn, at.add(p + 2), e);
                e.close();
            }
            Err(_) => {
                e.field(&DNAME, at.span(p + 2, dn.len()), Value::None);
                e.open();
                e.text(at.span(p + 2, dn.len()), "Distinguished name is not valid DER");
                e.close();
            }
        }
    }
    e.close();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry() {
        assert_eq!(oid_dissector("2.5.4.3"), Some("x509sat"));
        assert_eq!(oid_dissector("2.5.29.17"), Some("x509ce"));
        assert_eq!(oid_dissector("2.5.29.1"), None);
        assert_eq!(oid_dissector("1.3.6.1.5.5.7.1.1"), Some("pkix1implicit"));
        assert_eq!(oid_dissector("1.3.6.1.4.1.11129.2.4.2"), Some("tls"));
        assert_eq!(oid_dissector("1.2.840.10045.2.1"), Some("pkcs-1"));
        assert_eq!(oid_dissector("1.2.840.113549.1.1.11"), None);
        assert_eq!(oid_dissector("2.16.840.1.113730.1.13"), Some("ns_cert_exts"));
        assert_eq!(attribute_syntax("2.5.4.5"), Some(Syntax::Printable));
        assert_eq!(attribute_syntax("1.3.6.1.4.1.311.60.2.1.3"), Some(Syntax::Country));
        assert_eq!(attribute_syntax("2.5.4.10"), Some(Syntax::Directory));
        assert_eq!(attribute_syntax("1.2.3.4"), None);
    }

    #[test]
    fn tree_texts() {
        let mut t = String::new();
        oid_text("2.5.4.3", &mut t);
        assert_eq!(t, "2.5.4.3 (id-at-commonName)");
        t.clear();
        oid_text("1.2.3.4", &mut t);
        assert_eq!(t, "1.2.3.4");
        assert_eq!(oid_label("1.2.840.113549.1.1.11"), "sha256WithRSAEncryption");
        assert_eq!(version_name(2), Some("v3"));
        assert_eq!(directory_choice(4), Some("uTF8String"));
        assert_eq!(general_name_choice(2), Some("dNSName"));
        t.clear();
        items(1, &mut t);
        t.push(' ');
        items(3, &mut t);
        assert_eq!(t, "1 item 3 items");
        t.clear();
        crate::field::write_display(&PKCS1_MODULUS, &Value::Bytes(&[0xab; 40]), &mut t);
        assert_eq!(t, format!("{}…", "ab".repeat(36)));
    }

    #[test]
    fn strings() {
        assert_eq!(utf16(&[0, b'h', 0, b'i']), "hi");
        assert_eq!(ucs4(&[0, 0, 0, b'x']), "x");
        assert_eq!(ucs4(&[0xff, 0, 0, 0]), "\u{fffd}");
    }
}
