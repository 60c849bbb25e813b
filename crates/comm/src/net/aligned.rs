//! Received bodies in allocations of their elements' alignment, which a typed receive
//! takes over as its `Vec` instead of copying them.
//!
//! A typed call's plain vector (`Vec<u64>`, `Vec<f32>`, ...) travels as its bytes, and
//! the receiver wants a `Vec` of the element type back. A `Vec<T>` must own memory
//! allocated with `T`'s alignment and exactly its byte size, which a byte buffer (the
//! recycled, page-aligned ones of `pool`, or the shared read buffer) is not: the receiver
//! copied every body into a fresh vector, which made typed calls up to 1.8x slower than
//! the byte path on 1 MiB. So the sender says in the frame prefix which alignment a body's
//! elements have, the reader allocates the body with exactly `Layout(len, align)`
//! ([`AlignedBuf`]), and [`take_vec`] turns the [`Bytes`] handed up into a `Vec<T>` with
//! `Vec::from_raw_parts` when nothing else still refers to it.
//!
//! A [`Bytes`] cannot give back its owner, so bodies handed up are listed by address
//! here ([`into_bytes`]); [`take_vec`] finds the allocation behind a `Bytes` that way and
//! takes it only when its reference count shows it alone holds it (a body that a
//! broadcast is still forwarding is copied instead).

use std::alloc::{self, Layout};
use std::collections::HashMap;
use std::mem::MaybeUninit;
use std::ptr::NonNull;
use std::sync::{Arc, LazyLock, Weak};
use std::time::{Duration, Instant};

use bytemuck::Pod;
use bytes::Bytes;
use parking_lot::Mutex;

/// The largest alignment a frame may ask for its body (that of `u128` and `f64x2`).
pub(crate) const MAX_ALIGN: usize = 16;

/// Bodies at least this large make [`keep_freed_memory`] worth it: smaller blocks stay
/// on glibc's heap, under its initial `mmap` threshold (128 KiB) and trimming.
pub(crate) const LARGE: usize = 64 << 10;

/// One body's bytes, in an allocation of exactly `layout` from the global allocator
/// (none when it is empty), filled from the front: `filled` bytes are initialised.
///
/// The memory starts uninitialised: zeroing it first (as `alloc_zeroed` does for memory
/// the allocator reuses) cost as much as the copy this type exists to avoid. On 4 ranks
/// of the 2-core VM, a typed broadcast of 16 MiB took 1.39x its byte path received
/// into zeroed buffers and 1.03x into uninitialised ones (medians of 3 rounds, same run).
pub(crate) struct AlignedBuf {
    ptr: NonNull<u8>,
    layout: Layout,
    filled: usize,
    /// Whether [`into_bytes`] listed it in [`HANDED_UP`], which its end must undo.
    listed: bool,
}

// SAFETY: an `AlignedBuf` owns its allocation alone (like a `Vec<u8>`); `&AlignedBuf`
// only reads it.
unsafe impl Send for AlignedBuf {}
// SAFETY: see `Send`.
unsafe impl Sync for AlignedBuf {}

impl AlignedBuf {
    /// An empty buffer for `len` bytes aligned to `align`, which is a power of two up to
    /// [`MAX_ALIGN`] (`None` otherwise: the caller turns that into a protocol error).
    pub(crate) fn new(len: usize, align: usize) -> Option<AlignedBuf> {
        if !align.is_power_of_two() || align > MAX_ALIGN {
            return None;
        }
        let layout = Layout::from_size_align(len, align).ok()?;
        let ptr = if len == 0 {
            // No allocation: a dangling pointer of the right alignment, as `Vec` uses.
            NonNull::new(align as *mut u8)?
        } else {
            if len >= LARGE {
                keep_freed_memory();
            }
            // SAFETY: `layout` has a non-zero size (checked above).
            let raw = unsafe { alloc::alloc(layout) };
            match NonNull::new(raw) {
                Some(ptr) => ptr,
                None => alloc::handle_alloc_error(layout),
            }
        };
        Some(AlignedBuf {
            ptr,
            layout,
            filled: 0,
            listed: false,
        })
    }

    /// The body's length in bytes, once filled.
    pub(crate) fn len(&self) -> usize {
        self.layout.size()
    }

    /// Whether every byte of the body is there.
    pub(crate) fn is_full(&self) -> bool {
        self.filled == self.len()
    }

    /// The bytes filled so far.
    pub(crate) fn as_slice(&self) -> &[u8] {
        // SAFETY: the first `filled` bytes at `ptr` are initialised and owned by this
        // buffer (or `filled == 0` and `ptr` is dangling but aligned and non-null).
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.filled) }
    }

    /// Appends `bytes` (at most what is still missing; the rest is ignored) and returns
    /// how many were taken.
    pub(crate) fn fill(&mut self, bytes: &[u8]) -> usize {
        let n = bytes.len().min(self.len() - self.filled);
        // SAFETY: `filled + n <= len`, so the destination lies inside the allocation,
        // which `bytes` (a shared borrow of other memory) cannot overlap.
        unsafe {
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), self.ptr.as_ptr().add(self.filled), n);
        }
        self.filled += n;
        n
    }

    /// Reads the next bytes of the body from `stream`, returning how many came (as
    /// [`Read::read`](std::io::Read::read) does).
    pub(crate) fn read_from(&mut self, stream: &mut impl ReadUninit) -> std::io::Result<usize> {
        let missing = self.len() - self.filled;
        // SAFETY: the `missing` bytes after the filled ones lie inside the allocation
        // and nothing else refers to them (`&mut self`); `MaybeUninit<u8>` may be
        // uninitialised.
        let spare = unsafe {
            std::slice::from_raw_parts_mut(
                self.ptr.as_ptr().add(self.filled).cast::<MaybeUninit<u8>>(),
                missing,
            )
        };
        let n = stream.read_uninit(spare)?;
        // `ReadUninit`'s contract: `n` is at most `missing` and those bytes are set.
        assert!(n <= missing, "a read returned more bytes than asked for");
        self.filled += n;
        Ok(n)
    }

    /// The body as a `Vec<T>` without a copy when it is full and its allocation is
    /// exactly one of `T`s (same alignment, a whole number of elements), else the
    /// buffer back.
    pub(crate) fn into_vec<T: Pod>(self) -> Result<Vec<T>, AlignedBuf> {
        let size = size_of::<T>();
        let fits = size != 0
            && self.is_full()
            && self.layout.align() == align_of::<T>()
            && self.len() % size == 0;
        if !fits {
            return Err(self);
        }
        let this = std::mem::ManuallyDrop::new(self);
        this.unlist();
        let count = this.len() / size;
        if count == 0 {
            return Ok(Vec::new());
        }
        // SAFETY: `ptr` was allocated by the global allocator with `layout`, whose
        // alignment is `align_of::<T>()` and whose size is `count * size_of::<T>()`:
        // exactly the layout of a `Vec<T>` of capacity `count`. All its bytes are
        // initialised (full), and any bytes are a valid `T` (`Pod`). `ManuallyDrop`
        // keeps this buffer from freeing what the vector now owns.
        Ok(unsafe { Vec::from_raw_parts(this.ptr.as_ptr().cast::<T>(), count, count) })
    }

    /// Takes this buffer off the list of handed-up bodies, if it is on it.
    fn unlist(&self) {
        if self.listed {
            HANDED_UP.lock().remove(&(self.ptr.as_ptr() as usize));
        }
    }
}

/// A stream that can read into uninitialised memory.
///
/// # Safety
/// `read_uninit` returns `Ok(n)` only with `n <= buf.len()` and the first `n` bytes of
/// `buf` initialised.
pub(crate) unsafe trait ReadUninit {
    /// Reads into `buf` as [`Read::read`](std::io::Read::read) does.
    fn read_uninit(&mut self, buf: &mut [MaybeUninit<u8>]) -> std::io::Result<usize>;
}

/// Reads of any [`Read`](std::io::Read) (in-memory streams, tests), into memory zeroed
/// first, 64 KiB at a time so that a stream handing out a few bytes per read does not
/// zero the rest of a large body again on every call.
#[cfg(any(test, feature = "fuzzing"))]
pub(crate) struct Zeroing<'a, R>(pub(crate) &'a mut R);

#[cfg(any(test, feature = "fuzzing"))]
impl<R: std::io::Read> std::io::Read for Zeroing<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.0.read(buf)
    }
}

// SAFETY: the bytes handed to `read` are zeroed first, so all of them are initialised,
// and a `Read` returns at most the length it was given (checked again by the caller).
#[cfg(any(test, feature = "fuzzing"))]
unsafe impl<R: std::io::Read> ReadUninit for Zeroing<'_, R> {
    fn read_uninit(&mut self, buf: &mut [MaybeUninit<u8>]) -> std::io::Result<usize> {
        let n = buf.len().min(64 << 10);
        let part = &mut buf[..n];
        part.fill(MaybeUninit::new(0));
        // SAFETY: every byte of `part` was just initialised.
        let part = unsafe { &mut *(part as *mut [MaybeUninit<u8>] as *mut [u8]) };
        self.0.read(part)
    }
}

impl Drop for AlignedBuf {
    fn drop(&mut self) {
        // Off the list before the memory is freed, so that a later allocation at the
        // same address is never mistaken for this one.
        self.unlist();
        if self.len() > 0 {
            // SAFETY: allocated in `new` with this very layout, and not handed to a
            // `Vec` (`into_vec` forgets the buffer when it does).
            unsafe { alloc::dealloc(self.ptr.as_ptr(), self.layout) }
        }
    }
}

impl std::fmt::Debug for AlignedBuf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AlignedBuf")
            .field("len", &self.len())
            .field("align", &self.layout.align())
            .finish()
    }
}

/// The bodies handed up as [`Bytes`] and still alive, by the address of their first
/// byte. Only non-empty ones: live allocations never share an address.
static HANDED_UP: LazyLock<Mutex<HashMap<usize, Weak<AlignedBuf>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// The owner inside a handed-up [`Bytes`].
struct Shared(Arc<AlignedBuf>);

impl AsRef<[u8]> for Shared {
    fn as_ref(&self) -> &[u8] {
        self.0.as_slice()
    }
}

/// A filled body as the value handed to the upper layer, which [`take_vec`] can take
/// back as a `Vec`.
pub(crate) fn into_bytes(mut buf: AlignedBuf) -> Bytes {
    debug_assert!(buf.is_full(), "a body is handed up before all of it came");
    if buf.len() == 0 {
        return Bytes::new();
    }
    buf.listed = true;
    let address = buf.ptr.as_ptr() as usize;
    let shared = Arc::new(buf);
    HANDED_UP.lock().insert(address, Arc::downgrade(&shared));
    Bytes::from_owner(Shared(shared))
}

/// `bytes` as a `Vec<T>` without a copy when they are a whole body received for `T`s
/// ([`into_bytes`]) that nothing else refers to any more; else `bytes` back, for the
/// caller to copy. While other references remain (sends of a body this rank has just
/// forwarded, still being written), it waits for them up to `patience` first.
///
/// A broadcast's inner ranks pass the value on before returning it; a forward of
/// 16 MiB stays queued for milliseconds, and copying the body instead cost as much as
/// the broadcast saved by not copying elsewhere. Waiting costs little: the child
/// receives the same bytes in the same call anyway.
pub(crate) fn take_vec<T: Pod>(bytes: Bytes, patience: Duration) -> Result<Vec<T>, Bytes> {
    if bytes.is_empty() || size_of::<T>() == 0 {
        return Err(bytes);
    }
    // `bytes` keeps the allocation alive, so a listed one upgrades.
    let found = HANDED_UP
        .lock()
        .get(&(bytes.as_ptr() as usize))
        .and_then(Weak::upgrade);
    let Some(mut shared) = found else {
        return Err(bytes);
    };
    let fits = shared.len() == bytes.len()
        && shared.layout.align() == align_of::<T>()
        && bytes.len() % size_of::<T>() == 0;
    if !fits {
        return Err(bytes);
    }
    drop(bytes);
    let deadline = Instant::now() + patience;
    let mut polls = 0u32;
    loop {
        match Arc::try_unwrap(shared) {
            Ok(buf) => {
                #[cfg(test)]
                TAKEN.with(|taken| taken.set(taken.get() + 1));
                return buf.into_vec().map_err(into_bytes);
            }
            // Another reference (a send still queued, a clone the caller kept) reads it.
            Err(still) if Instant::now() >= deadline => {
                return Err(Bytes::from_owner(Shared(still)));
            }
            Err(still) => {
                shared = still;
                // Yield rather than spin: the network thread writing the send may
                // need this core.
                polls += 1;
                if polls > 64 {
                    std::thread::sleep(Duration::from_micros(50));
                } else {
                    std::thread::yield_now();
                }
            }
        }
    }
}

#[cfg(test)]
thread_local! {
    /// How many bodies [`take_vec`] handed over as vectors on this thread, for tests
    /// that check a typed receive took that path.
    pub(crate) static TAKEN: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Asks glibc's allocator, once per process, to keep the memory of freed blocks under
/// 32 MiB for reuse instead of giving it back to the kernel at once.
///
/// A program that receives one vector per call (`v = broadcast(0, None)?` in a loop)
/// frees the last one as it gets the next. By default glibc serves such blocks with
/// `mmap` and unmaps them on free, or, once its adaptive threshold has risen, trims them
/// off its heap: either way the next vector's pages fault in again, one per 4 KiB, and
/// in a VM a fault costs microseconds. On 4 ranks of the 2-core development VM, a typed
/// gather of 1 MiB went from 0.56 and 0.69 ms to 0.30 and 0.35 ms with these settings
/// (given through glibc's environment variables, same runs). Open MPI changes the same
/// settings for its own reasons.
///
/// The trim threshold covers the main heap and shrinking the others, but not a thread's
/// extra heaps (64 MiB each) that become wholly free: glibc unmaps those unless the
/// heap before has `M_TOP_PAD` bytes to spare. The network thread's arena, which holds
/// every received vector, grows such heaps for large bodies and lost them between
/// calls: a typed all-gather of 16 MiB on 4 ranks faulted about 1,800 pages per call
/// on some ranks and took 1.2-1.4x its byte path after other collectives had run;
/// with the pad at a whole heap it took 1.0x (bench/RESULTS.md, session 11). The pad
/// also rounds up each growth of a heap, which reserves address space but touches no
/// page. The cost: a process keeps freed memory mapped, up to 128 MiB at the top of
/// its main heap and the peak of each thread's heaps.
pub(crate) fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(|| {
            // SAFETY: mallopt only changes the allocator's thresholds; glibc serialises
            // it against concurrent allocations. A refused setting leaves the default.
            unsafe {
                libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
                libc::mallopt(libc::M_TRIM_THRESHOLD, 128 << 20);
                libc::mallopt(libc::M_TOP_PAD, 64 << 20);
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filled(len: usize, align: usize) -> AlignedBuf {
        let mut buf = AlignedBuf::new(len, align).unwrap();
        let bytes: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
        assert_eq!(buf.fill(&bytes), len);
        buf
    }

    #[test]
    fn only_small_powers_of_two_are_alignments() {
        for bad in [0, 3, 32, 4096] {
            assert!(AlignedBuf::new(8, bad).is_none(), "{bad}");
        }
        for align in [1, 2, 4, 8, 16] {
            let buf = filled(40, align);
            assert_eq!(buf.as_slice().as_ptr() as usize % align, 0);
            assert_eq!(buf.as_slice().len(), 40);
        }
    }

    #[test]
    fn buffers_fill_from_the_front_by_copies_and_reads() {
        let mut buf = AlignedBuf::new(10, 2).unwrap();
        assert_eq!(buf.fill(&[1, 2, 3]), 3);
        assert!(!buf.is_full() && buf.as_slice() == [1, 2, 3]);
        // A partly filled buffer is no vector yet.
        let mut buf = buf.into_vec::<u16>().unwrap_err();
        let mut stream: &[u8] = &[4, 5, 6, 7];
        assert_eq!(buf.read_from(&mut Zeroing(&mut stream)).unwrap(), 4);
        // More than is missing: only what fits is taken.
        assert_eq!(buf.fill(&[8, 9, 10, 11, 12]), 3);
        assert!(buf.is_full());
        assert_eq!(buf.as_slice(), &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10][..]);
        let mut stream: &[u8] = &[1];
        assert_eq!(buf.read_from(&mut Zeroing(&mut stream)).unwrap(), 0);
        let halves: Vec<u16> = buf.into_vec().unwrap();
        assert_eq!(halves, [0x0201, 0x0403, 0x0605, 0x0807, 0x0a09]);
    }

    #[test]
    fn a_fitting_buffer_becomes_a_vec_without_a_copy() {
        let buf = filled(24, 8);
        let address = buf.as_slice().as_ptr();
        let words: Vec<u64> = buf.into_vec().unwrap();
        assert_eq!(words.as_ptr().cast(), address);
        assert_eq!((words.len(), words.capacity()), (3, 3));
        assert_eq!(words[0], u64::from_le_bytes([0, 1, 2, 3, 4, 5, 6, 7]));
        // Pushing reallocates through the global allocator with the vector's layout.
        let mut words = words;
        words.push(9);
        assert_eq!(words.len(), 4);
    }

    #[test]
    fn a_buffer_of_another_layout_is_refused_intact() {
        // Alignment 4 is not u64's; 20 bytes are not whole u64s; u32 needs alignment 4.
        let back = filled(24, 4).into_vec::<u64>().unwrap_err();
        assert_eq!(back.as_slice(), filled(24, 4).as_slice());
        assert!(filled(20, 8).into_vec::<u64>().is_err());
        assert!(filled(8, 8).into_vec::<u32>().is_err());
        let empty: Vec<u16> = AlignedBuf::new(0, 2).unwrap().into_vec().unwrap();
        assert!(empty.is_empty());
    }

    #[test]
    fn handed_up_bodies_come_back_as_vecs_when_alone() {
        let bytes = into_bytes(filled(4096, 4));
        let address = bytes.as_ptr();
        let floats: Vec<f32> = take_vec(bytes, Duration::ZERO).unwrap();
        assert_eq!(floats.as_ptr().cast(), address);
        assert_eq!(floats.len(), 1024);
        assert!(!HANDED_UP.lock().contains_key(&(address as usize)));

        // A clone still refers to it: copied instead, and it stays listed until the end.
        let bytes = into_bytes(filled(64, 8));
        let clone = bytes.clone();
        let back = take_vec::<u64>(bytes, Duration::ZERO).unwrap_err();
        assert_eq!(back, clone);
        let address = clone.as_ptr() as usize;
        assert!(HANDED_UP.lock().contains_key(&address));
        drop((back, clone));
        assert!(!HANDED_UP.lock().contains_key(&address));

        // The wrong element type, a part of a body, and ordinary bytes are refused.
        let bytes = into_bytes(filled(64, 8));
        let bytes = take_vec::<u32>(bytes, Duration::ZERO).unwrap_err();
        assert!(take_vec::<u64>(bytes.slice(8..), Duration::ZERO).is_err());
        assert!(take_vec::<u64>(bytes.slice(..16), Duration::ZERO).is_err());
        assert_eq!(take_vec::<u64>(bytes, Duration::ZERO).unwrap().len(), 8);
        assert!(take_vec::<u8>(Bytes::from(vec![1u8, 2]), Duration::ZERO).is_err());
        assert!(take_vec::<u8>(Bytes::new(), Duration::ZERO).is_err());
    }

    /// A body whose other reference (a forward being written) goes away while the
    /// receiver waits is taken; one still referred to when patience runs out is not.
    #[test]
    fn a_forwarded_body_is_taken_once_its_sends_let_go() {
        let bytes = into_bytes(filled(1 << 16, 8));
        let in_flight = bytes.clone();
        let sender = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            drop(in_flight);
        });
        let words: Vec<u64> = take_vec(bytes, Duration::from_secs(30)).unwrap();
        assert_eq!(words.len(), 1 << 13);
        sender.join().unwrap();

        let bytes = into_bytes(filled(64, 8));
        let kept = bytes.clone();
        let back = take_vec::<u64>(bytes, Duration::from_millis(1)).unwrap_err();
        assert_eq!(back, kept);
    }
}
