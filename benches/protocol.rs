//! Decoding the event stream: RecordIO framing + protobuf decoding of OFFERS events + conversion
//! of every offer into the engine's model, in offers per second.
//!
//! Run: `cargo bench --features mesos --bench protocol`.

use std::hint::black_box;
use std::time::Duration;

use bytes::BytesMut;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use offerpack::mesos::v1::scheduler::{event, Event};
use offerpack::mesos::v1::{self, value};
use offerpack::mesos::{recordio, RecordIoDecoder};
use prost::Message;

fn scalar(name: &str, amount: f64) -> v1::Resource {
    v1::Resource {
        name: name.to_owned(),
        r#type: value::Type::Scalar as i32,
        scalar: Some(value::Scalar { value: amount }),
        ..Default::default()
    }
}

fn text(name: &str, text: &str) -> v1::Attribute {
    v1::Attribute {
        name: name.to_owned(),
        r#type: value::Type::Text as i32,
        text: Some(value::Text { value: text.to_owned() }),
        ..Default::default()
    }
}

/// An offer shaped like a real master's: five scalars, one port range, three attributes.
fn offer(i: usize) -> v1::Offer {
    let ports = v1::Resource {
        name: "ports".to_owned(),
        r#type: value::Type::Ranges as i32,
        ranges: Some(value::Ranges { range: vec![value::Range { begin: 31000, end: 32000 }] }),
        ..Default::default()
    };
    v1::Offer {
        id: v1::OfferId { value: format!("3c5e1d2a-{i:08}-O{i}") },
        framework_id: v1::FrameworkId { value: "3c5e1d2a-0000-0000-0000-000000000000-0000".to_owned() },
        agent_id: v1::AgentId { value: format!("3c5e1d2a-0000-0000-0000-000000000000-S{i}") },
        hostname: format!("host-{i:05}.example"),
        resources: vec![
            scalar("cpus", 16.0),
            scalar("mem", 65536.0),
            scalar("disk", 500000.0),
            scalar("network", 1000.0),
            scalar("gpus", 0.0),
            ports,
        ],
        attributes: vec![
            text("zone", ["a", "b", "c"][i % 3]),
            text("rack", &format!("r{:04}", i / 20)),
            text("os", "linux"),
        ],
        ..Default::default()
    }
}

/// A RecordIO stream of OFFERS events, `per_event` offers each, `total` offers in all.
fn stream(total: usize, per_event: usize) -> Vec<u8> {
    let mut out = BytesMut::new();
    for start in (0..total).step_by(per_event) {
        let offers = (start..(start + per_event).min(total)).map(offer).collect();
        let event = Event {
            r#type: Some(event::Type::Offers as i32),
            offers: Some(event::Offers { offers }),
            ..Default::default()
        };
        recordio::encode_message(&event, &mut out);
    }
    out.to_vec()
}

/// Decodes the stream in 16 KiB chunks and converts every offer; returns how many converted.
fn decode(bytes: &[u8]) -> usize {
    let mut decoder = RecordIoDecoder::new();
    let mut converted = 0;
    for chunk in bytes.chunks(16 * 1024) {
        decoder.push(chunk);
        while let Ok(Some(frame)) = decoder.next_frame() {
            let Ok(event) = Event::decode(frame) else { continue };
            for offer in event.offers.map(|o| o.offers).unwrap_or_default() {
                if offerpack::Offer::try_from(offer).is_ok() {
                    converted += 1;
                }
            }
        }
    }
    converted
}

fn offers_events(c: &mut Criterion) {
    let mut group = c.benchmark_group("decode_offers");
    group.sample_size(20).measurement_time(Duration::from_secs(3));
    const TOTAL: usize = 10_000;
    for per_event in [1, 100] {
        let bytes = stream(TOTAL, per_event);
        assert_eq!(decode(&bytes), TOTAL, "every generated offer converts");
        group.throughput(Throughput::Elements(TOTAL as u64));
        group.bench_with_input(BenchmarkId::new("offers_per_event", per_event), &bytes, |b, bytes| {
            b.iter(|| black_box(decode(bytes)))
        });
    }
    group.finish();
}

criterion_group!(benches, offers_events);
criterion_main!(benches);
