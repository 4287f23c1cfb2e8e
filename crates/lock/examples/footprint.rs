//! Peak heap and stack of the lock core on the host simulator (issue 5, "Measure").
//!
//! The board is the simulator's clock and entropy with a flash whose slots are preallocated
//! and an actuator that only remembers the bolt, so neither allocates: any allocation counted
//! during an event is the core's own.
//!
//! - Heap: the allocation counter (`stats_alloc`, this binary's global allocator) around a
//!   first unlock (M1 → M4, full credential), a cached unlock and an idle tick (fresh ephemeral
//!   key and a sealed log batch), run on the only thread of the process.
//! - Stack: without `unsafe`, by overflow. A child process (this binary again) runs the event
//!   on a thread after first pushing `pad` bytes of recursion frames; the parent bisects the
//!   largest `pad` that still completes. The event's peak stack is that largest pad for an
//!   empty event minus the one for the event, to within one recursion frame (printed). A
//!   stack overflow aborts only the child.
//!
//! Run: `CARGO_TARGET_DIR=target-protocol cargo run --release -p latchkey-lock --example footprint`
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "../benches/fixture/mod.rs"]
mod fixture;

use fixture::Fixture;
use latchkey_lock::machine::{Board, LOG_CAPACITY};
use latchkey_lock::platform::{Actuator, Bolt, Flash, FlashError, Slot};
use latchkey_lock::sim::{SimClock, SimEntropy};
use latchkey_protocol::crypto::SoftwareCrypto;
use latchkey_protocol::revocation::MAX_REVOCATION_LEN;
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};
use std::alloc::System;
use std::hint::black_box;
use std::process::{Command, Stdio};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Stack of the measuring thread; the pad eats most of it.
const THREAD_STACK: usize = 1 << 20;

/// Flash with every slot allocated up front: writes copy into existing capacity.
struct ArrayFlash {
    slots: Vec<Vec<u8>>,
}

impl ArrayFlash {
    fn new() -> Self {
        let slots = (0..5 + LOG_CAPACITY)
            .map(|_| Vec::with_capacity(MAX_REVOCATION_LEN))
            .collect();
        ArrayFlash { slots }
    }

    fn index(slot: Slot) -> usize {
        match slot {
            Slot::Identity => 0,
            Slot::Binding => 1,
            Slot::Revocation => 2,
            Slot::Counters => 3,
            Slot::Uses => 4,
            Slot::Log(i) => 5 + usize::from(i),
        }
    }
}

impl Flash for ArrayFlash {
    fn read(&mut self, slot: Slot, buf: &mut [u8]) -> Result<usize, FlashError> {
        let data = &self.slots[Self::index(slot)];
        let dst = buf.get_mut(..data.len()).ok_or(FlashError::TooLarge)?;
        dst.copy_from_slice(data);
        Ok(data.len())
    }

    fn write(&mut self, slot: Slot, data: &[u8]) -> Result<(), FlashError> {
        let s = &mut self.slots[Self::index(slot)];
        if data.len() > s.capacity() {
            return Err(FlashError::TooLarge);
        }
        s.clear();
        s.extend_from_slice(data);
        Ok(())
    }
}

struct Motor(Bolt);

impl Actuator for Motor {
    fn drive(&mut self, to: Bolt) {
        self.0 = to;
    }
}

type Core = fixture::Lock<ArrayFlash, Motor>;

#[derive(Clone, Copy)]
enum Event {
    /// Nothing: the baseline (thread start, closure call).
    Empty,
    /// M1 → M2 and M3 (full credential) → M4.
    First,
    /// The same with the cached credential.
    Cached,
    /// Idle tick: fresh ephemeral key, sealed log batch for the next M4.
    Tick,
    /// Calibration: a frame holding an 8 KiB array (expect a little over 8192 bytes).
    Probe,
}

impl Event {
    const ALL: [(Event, &'static str); 5] = [
        (Event::Empty, "empty"),
        (Event::First, "first"),
        (Event::Cached, "cached"),
        (Event::Tick, "tick"),
        (Event::Probe, "probe"),
    ];

    fn parse(s: &str) -> Event {
        Event::ALL.iter().find(|(_, n)| *n == s).unwrap().0
    }

    /// Untimed preparation before the measured part.
    fn prepare(self, f: &mut Fixture<ArrayFlash, Motor>) {
        match self {
            Event::First | Event::Cached => f.prime(),
            Event::Empty | Event::Tick | Event::Probe => {}
        }
    }

    fn run(self, f: &mut Fixture<ArrayFlash, Motor>) {
        match self {
            Event::Empty => {}
            Event::First => f.unlock(false),
            Event::Cached => f.unlock(true),
            Event::Tick => f.prime(),
            Event::Probe => probe_8k(),
        }
    }
}

#[inline(never)]
fn probe_8k() {
    let a = [7u8; 8192];
    black_box(&a);
}

fn fixture() -> Box<Fixture<ArrayFlash, Motor>> {
    Box::new(Fixture::new(ArrayFlash::new(), Motor(Bolt::Locked)))
}

/// Recurse until this frame's address is at or below `limit`, then run `work`. Returns the
/// number of frames pushed.
#[inline(never)]
fn burn(limit: usize, depth: usize, work: &mut dyn FnMut()) -> usize {
    let pad = [0u8; 16];
    let here = black_box(&pad).as_ptr().addr();
    let n = if here > limit {
        burn(limit, depth + 1, work)
    } else {
        work();
        depth
    };
    // Use the frame after the call: no tail call, the frame stays on the stack.
    black_box(&pad);
    n
}

fn here() -> usize {
    let probe = 0u8;
    black_box(&probe as *const u8).addr()
}

/// Child: run `event` on a thread of `THREAD_STACK` bytes after `pad` bytes of frames.
fn child(event: Event, pad: usize) {
    let mut f = fixture();
    event.prepare(&mut f);
    let t = std::thread::Builder::new()
        .stack_size(THREAD_STACK)
        .spawn(move || {
            let top = here();
            let limit = top.saturating_sub(pad);
            let depth = burn(limit, 1, &mut || event.run(&mut f));
            // Frame size of `burn`: the granularity of the method.
            let frames = burn(top.saturating_sub(4096), 1, &mut || {});
            println!("{depth} {}", 4096 / frames.max(1));
        })
        .unwrap();
    t.join().unwrap();
}

fn child_ok(event: &str, pad: usize) -> Option<usize> {
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["child", event, &pad.to_string()])
        .stderr(Stdio::null())
        .output()
        .unwrap();
    if !out.status.success() {
        return None;
    }
    let s = String::from_utf8(out.stdout).unwrap();
    s.split_whitespace().nth(1)?.parse().ok()
}

/// Largest pad (bytes) after which `event` still completes, and the frame size.
fn max_pad(event: &str) -> (usize, usize) {
    let mut frame = child_ok(event, 0).expect("event fails even without a pad");
    let (mut lo, mut hi) = (0, THREAD_STACK);
    while hi - lo > 8 {
        let mid = lo + (hi - lo) / 2;
        match child_ok(event, mid) {
            Some(fr) => {
                frame = fr;
                lo = mid;
            }
            None => hi = mid,
        }
    }
    (lo, frame)
}

fn heap() {
    // Control: the counter sees an allocation.
    let region = Region::new(GLOBAL);
    black_box(Vec::<u8>::with_capacity(100));
    println!(
        "heap control (one Vec of 100 bytes): {} allocations, {} bytes",
        region.change().allocations,
        region.change().bytes_allocated
    );
    let mut f = fixture();
    for (event, name) in Event::ALL {
        event.prepare(&mut f);
        let region = Region::new(GLOBAL);
        event.run(&mut f);
        let c = region.change();
        println!(
            "heap  {name:>6}: {} allocations, {} reallocations, {} bytes",
            c.allocations, c.reallocations, c.bytes_allocated
        );
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() == 4 && args[1] == "child" {
        child(Event::parse(&args[2]), args[3].parse().unwrap());
        return;
    }
    let core = std::mem::size_of::<Core>();
    let board = std::mem::size_of::<Board<ArrayFlash, SimClock, Motor, SimEntropy>>();
    println!(
        "state: LockCore {core} bytes = board {board} (this board's handles) + core {} bytes \
         (crypto backend {} bytes)",
        core - board,
        std::mem::size_of::<SoftwareCrypto>()
    );
    heap();
    let (base, frame) = max_pad("empty");
    println!("stack baseline: empty event completes after a pad of {base} bytes");
    for (_, name) in &Event::ALL[1..] {
        let (pad, _) = max_pad(name);
        println!(
            "stack {name:>6}: {} bytes (± {frame}, ≈ one recursion frame)",
            base.saturating_sub(pad)
        );
    }
}
