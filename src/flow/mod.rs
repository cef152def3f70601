//! The flow engine: sees every frame once, in capture order, after L2–L4 dissection.
//!
//! Placeholder until the flow issue lands: it shows transport payloads as data. Its interface
//! (`process` per frame, `finish` at the end) is what the pipeline calls.

use netsniff_dissectors::proto::data;
use netsniff_dissectors::{Cx, FrameMeta, PacketInfo, Transport};

/// Settings of the flow engine.
#[derive(Debug, Clone, Default)]
pub struct FlowConfig {
    pub decode_as: Vec<crate::cli::config::DecodeAs>,
}

/// The flow table and everything built on it.
#[derive(Debug, Default)]
pub struct FlowEngine {}

impl FlowEngine {
    pub fn new(_config: FlowConfig) -> FlowEngine {
        FlowEngine {}
    }

    /// Processes one dissected frame; `payload` is its transport payload.
    pub fn process(&mut self, _meta: &FrameMeta, pi: &PacketInfo, payload: &[u8], cx: &mut Cx<'_>) {
        if matches!(pi.transport, Transport::Tcp(_) | Transport::Udp(_)) {
            data::dissect(payload, pi.payload_start as usize, cx);
        }
    }
}
