//! Benchmark (not a test) of the access decision core against Cedar — performance.md row P5.
//!
//! `cargo run --release --manifest-path bench/access/Cargo.toml`
//!
//! Generates one organisation from a fixed seed (100 000 people, 10 000 locks, 1 000 000 grants),
//! loads it into `latchkey_domain::access::AccessModel` and into Cedar (entities + a handful of
//! policies, see README.md), checks that both give the same answer on a sample, then measures
//! decision throughput and latency, memory, and `who_can_open`.

mod alloc;
mod cedar_model;
mod org;
mod rng;

use std::hint::black_box;
use std::time::{Duration, Instant};

use latchkey_domain::access::AccessModel;

use crate::alloc::live_bytes;
use crate::org::{Org, Sample};

const SEED: u64 = 0x1a7c_4e11_2026_0004;
const SAMPLES: usize = 200_000;
const AGREEMENT_SAMPLES: usize = 50_000;

fn mib(bytes: usize) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(idx).copied().unwrap_or_default()
}

struct Figures {
    per_sec: f64,
    p50: Duration,
    p99: Duration,
    allowed: usize,
}

/// Throughput over all samples (one tight loop), then per-call latency in a second pass.
fn measure(samples: &[Sample], mut decide: impl FnMut(&Sample) -> bool) -> Figures {
    // Warm-up.
    for sample in samples.iter().take(10_000) {
        black_box(decide(sample));
    }
    let start = Instant::now();
    let mut allowed = 0;
    for sample in samples {
        if black_box(decide(sample)) {
            allowed += 1;
        }
    }
    let elapsed = start.elapsed();
    let mut latencies = Vec::with_capacity(samples.len());
    for sample in samples {
        let t = Instant::now();
        black_box(decide(sample));
        latencies.push(t.elapsed());
    }
    latencies.sort_unstable();
    Figures {
        per_sec: samples.len() as f64 / elapsed.as_secs_f64(),
        p50: percentile(&latencies, 0.50),
        p99: percentile(&latencies, 0.99),
        allowed,
    }
}

fn main() {
    let started = Instant::now();
    println!("latchkey access bench (seed {SEED:#x})");
    let org = Org::generate(SEED);
    println!(
        "generated: {} people, {} groups, {} sites, {} spaces, {} locks, {} device groups, {} grants in {:.1?}",
        org.people.len(),
        org.groups.len(),
        org.sites.len(),
        org.spaces.len(),
        org.locks.len(),
        org.device_groups.len(),
        org.grants.len(),
        started.elapsed()
    );

    let before = live_bytes();
    let t = Instant::now();
    let model: AccessModel = org.build_model();
    let model_bytes = live_bytes().saturating_sub(before);
    println!(
        "latchkey model built in {:.1?}: {:?}; live heap {:.0} MiB",
        t.elapsed(),
        model.counts(),
        mib(model_bytes)
    );

    let samples = org.samples(SEED ^ 0x5eed, SAMPLES);
    if std::env::var_os("LATCHKEY_BENCH_ONLY_LATCHKEY").is_some() {
        // For profiling decide alone: skip Cedar entirely.
        let ours = measure(&samples, |s| {
            model
                .decide(org.people[s.person].id, org.locks[s.lock].id, s.at_ms)
                .is_allowed()
        });
        println!(
            "latchkey decide: {:.0} decisions/s  p50 {:.2} µs  p99 {:.2} µs",
            ours.per_sec,
            ours.p50.as_secs_f64() * 1e6,
            ours.p99.as_secs_f64() * 1e6
        );
        return;
    }

    let before = live_bytes();
    let t = Instant::now();
    let cedar = cedar_model::CedarOrg::build(&org);
    let cedar_bytes = live_bytes().saturating_sub(before);
    println!(
        "cedar entities + policies built in {:.1?}: {} access entities, {} policies; live heap {:.0} MiB",
        t.elapsed(),
        cedar.access_entities,
        cedar.policy_count,
        mib(cedar_bytes)
    );

    println!("checking agreement on {AGREEMENT_SAMPLES} samples ...");
    let mut mismatches = 0;
    let mut allowed = 0;
    for sample in samples.iter().take(AGREEMENT_SAMPLES) {
        let ours = model
            .decide(
                org.people[sample.person].id,
                org.locks[sample.lock].id,
                sample.at_ms,
            )
            .is_allowed();
        let theirs = cedar.decide(&org, sample);
        if ours {
            allowed += 1;
        }
        if ours != theirs {
            mismatches += 1;
            if mismatches <= 5 {
                println!(
                    "  MISMATCH person {} lock {} at {}: latchkey {ours}, cedar {theirs}: {:?}",
                    sample.person,
                    sample.lock,
                    sample.at_ms,
                    model.decide(
                        org.people[sample.person].id,
                        org.locks[sample.lock].id,
                        sample.at_ms
                    )
                );
            }
        }
    }
    println!("agreement: {mismatches} mismatches, {allowed} allowed of {AGREEMENT_SAMPLES}");
    if mismatches > 0 {
        eprintln!("the two models disagree; figures would compare different questions");
        std::process::exit(1);
    }

    println!("measuring latchkey decide over {SAMPLES} random (person, lock, instant) ...");
    let ours = measure(&samples, |s| {
        model
            .decide(org.people[s.person].id, org.locks[s.lock].id, s.at_ms)
            .is_allowed()
    });
    println!("measuring cedar over the same samples ...");
    let theirs = measure(&samples, |s| cedar.decide(&org, s));

    println!();
    println!("== results ==");
    println!(
        "latchkey decide: {:>10.0} decisions/s  p50 {:>6.2} µs  p99 {:>6.2} µs  ({} allowed)",
        ours.per_sec,
        ours.p50.as_secs_f64() * 1e6,
        ours.p99.as_secs_f64() * 1e6,
        ours.allowed
    );
    println!(
        "cedar           : {:>10.0} decisions/s  p50 {:>6.2} µs  p99 {:>6.2} µs  ({} allowed)",
        theirs.per_sec,
        theirs.p50.as_secs_f64() * 1e6,
        theirs.p99.as_secs_f64() * 1e6,
        theirs.allowed
    );
    println!(
        "ratio latchkey/cedar throughput: {:.1}x (bar >= 10x)",
        ours.per_sec / theirs.per_sec
    );
    println!(
        "memory: latchkey model {:.0} MiB, cedar entities+policies {:.0} MiB",
        mib(model_bytes),
        mib(cedar_bytes)
    );

    let mut times = Vec::new();
    let mut largest = 0;
    for lock in org.who_can_open_locks(SEED ^ 0x10c4, 50) {
        let t = Instant::now();
        let who = model
            .who_can_open(org.locks[lock].id, org.noon_ms)
            .unwrap_or_default();
        times.push(t.elapsed());
        largest = largest.max(who.len());
        black_box(who);
    }
    times.sort_unstable();
    println!(
        "who_can_open (50 random locks, at {}): median {:.2} ms, max {:.2} ms (bar < 50 ms); up to {} people per lock",
        latchkey_domain::time::rfc3339_utc(org.noon_ms),
        percentile(&times, 0.5).as_secs_f64() * 1e3,
        times.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
        largest
    );
    let busiest = org.busiest_lock();
    let t = Instant::now();
    let who = model
        .who_can_open(org.locks[busiest].id, org.noon_ms)
        .unwrap_or_default();
    println!(
        "who_can_open on the most-granted lock: {:.2} ms for {} people",
        t.elapsed().as_secs_f64() * 1e3,
        who.len()
    );
    println!("total run {:.1?}", started.elapsed());
}
