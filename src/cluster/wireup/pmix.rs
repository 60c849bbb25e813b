//! A PMIx client, for Open MPI's `mpirun` (and `srun --mpi=pmix`).
//!
//! PMIx's wire protocol is private to its library, so we call the library. It is loaded
//! when needed (`dlopen("libpmix.so.2")`) rather than linked: the binaries then build and
//! run on machines without PMIx, and under `mpirun` the library is there, since Open MPI
//! itself depends on it (Debian's `libpmix2`). Only six functions are used, and the few
//! C structures they take are laid out here by hand, as PMIx 4's `pmix_common.h`
//! defines them (checked against it with a C compiler: `pmix_proc_t` is 260 bytes, the
//! data of a `pmix_value_t` starts at byte 8).

use std::ffi::{c_char, c_int, c_void, CStr, CString};

use crate::error::{Error, Result};

/// `PMIX_MAX_NSLEN + 1`: the size of a namespace name.
const NSPACE_LEN: usize = 256;
/// `PMIX_SUCCESS`.
const SUCCESS: c_int = 0;
/// `PMIX_GLOBAL`: share a put with every process of the job, local and remote.
const SCOPE_GLOBAL: u8 = 3;
/// `PMIX_STRING`: a value's data is a `char *`.
const TYPE_STRING: u16 = 3;
/// The library's soname in PMIx 2 to 5.
const LIBRARY: &str = "libpmix.so.2";

/// `pmix_proc_t`: a namespace and a rank.
#[repr(C)]
struct Proc {
    nspace: [c_char; NSPACE_LEN],
    rank: u32,
}

/// `pmix_value_t`, for the one kind we use: a type tag, then (8-aligned) a pointer.
#[repr(C)]
struct Value {
    kind: u16,
    data: *mut c_char,
    /// The rest of the C union (24 bytes in all), never read.
    _rest: [u64; 2],
}

type InitFn = unsafe extern "C" fn(*mut Proc, *const c_void, usize) -> c_int;
type PutFn = unsafe extern "C" fn(u8, *const c_char, *const Value) -> c_int;
type CommitFn = unsafe extern "C" fn() -> c_int;
type FenceFn = unsafe extern "C" fn(*const Proc, usize, *const c_void, usize) -> c_int;
type GetFn = unsafe extern "C" fn(
    *const Proc,
    *const c_char,
    *const c_void,
    usize,
    *mut *mut Value,
) -> c_int;
type FinalizeFn = unsafe extern "C" fn(*const c_void, usize) -> c_int;

/// An initialized PMIx client.
pub struct Pmix {
    me: Proc,
    put: PutFn,
    commit: CommitFn,
    fence: FenceFn,
    get: GetFn,
    finalize: FinalizeFn,
}

impl Pmix {
    /// Loads the library and connects to the local PMIx server named by the `PMIX_*`
    /// variables the launcher set.
    pub fn init() -> Result<Pmix> {
        let lib = CString::new(LIBRARY).map_err(|_| pmix_error("bad library name".into()))?;
        // SAFETY: dlopen with a valid C string; the handle is kept for the process's life
        // (never closed), so the function pointers below stay valid.
        let handle = unsafe { libc::dlopen(lib.as_ptr(), libc::RTLD_NOW | libc::RTLD_GLOBAL) };
        if handle.is_null() {
            return Err(pmix_error(format!(
                "cannot load {LIBRARY} ({}): install the PMIx library (Debian: libpmix2), \
                 or set EAU2_MASTER",
                dl_error()
            )));
        }
        // SAFETY: each symbol is looked up in the loaded PMIx library and cast to the
        // signature its header declares.
        let pmix = unsafe {
            let init: InitFn = std::mem::transmute(symbol(handle, "PMIx_Init")?);
            let mut me = Proc {
                nspace: [0; NSPACE_LEN],
                rank: 0,
            };
            let rc = init(&mut me, std::ptr::null(), 0);
            if rc != SUCCESS {
                return Err(pmix_error(format!("PMIx_Init failed with status {rc}")));
            }
            Pmix {
                me,
                put: std::mem::transmute::<*mut c_void, PutFn>(symbol(handle, "PMIx_Put")?),
                commit: std::mem::transmute::<*mut c_void, CommitFn>(symbol(
                    handle,
                    "PMIx_Commit",
                )?),
                fence: std::mem::transmute::<*mut c_void, FenceFn>(symbol(handle, "PMIx_Fence")?),
                get: std::mem::transmute::<*mut c_void, GetFn>(symbol(handle, "PMIx_Get")?),
                finalize: std::mem::transmute::<*mut c_void, FinalizeFn>(symbol(
                    handle,
                    "PMIx_Finalize",
                )?),
            }
        };
        Ok(pmix)
    }

    /// This process's namespace: the job's id, unique among the launcher's jobs.
    pub fn nspace(&self) -> String {
        // SAFETY: PMIx_Init wrote a NUL-terminated name into the zeroed array.
        unsafe { CStr::from_ptr(self.me.nspace.as_ptr()) }
            .to_string_lossy()
            .into_owned()
    }

    /// Publishes `key = value` to the whole job and commits it.
    pub fn put(&mut self, key: &str, value: &str) -> Result<()> {
        let key_c = c_string("key", key)?;
        let value_c = c_string("value", value)?;
        let v = Value {
            kind: TYPE_STRING,
            data: value_c.as_ptr() as *mut c_char,
            _rest: [0; 2],
        };
        // SAFETY: the key and value outlive the calls; PMIx copies what it keeps.
        let rc = unsafe { (self.put)(SCOPE_GLOBAL, key_c.as_ptr(), &v) };
        check(rc, &format!("PMIx_Put {key}"))?;
        // SAFETY: no arguments.
        check(unsafe { (self.commit)() }, "PMIx_Commit")
    }

    /// Waits for every process of the job (all of our namespace).
    pub fn fence(&mut self) -> Result<()> {
        // SAFETY: no processes named means all of ours; no info.
        let rc = unsafe { (self.fence)(std::ptr::null(), 0, std::ptr::null(), 0) };
        check(rc, "PMIx_Fence")
    }

    /// Reads the string `key` published by rank `from` of our job.
    pub fn get(&mut self, from: usize, key: &str) -> Result<String> {
        let key_c = c_string("key", key)?;
        let mut proc_ = Proc {
            nspace: self.me.nspace,
            rank: u32::try_from(from).map_err(|_| pmix_error(format!("rank {from} too large")))?,
        };
        proc_.nspace[NSPACE_LEN - 1] = 0;
        let mut out: *mut Value = std::ptr::null_mut();
        // SAFETY: valid proc and key; PMIx allocates the value it returns in `out`.
        let rc = unsafe { (self.get)(&proc_, key_c.as_ptr(), std::ptr::null(), 0, &mut out) };
        check(rc, &format!("PMIx_Get {key} from rank {from}"))?;
        if out.is_null() {
            return Err(pmix_error(format!("PMIx_Get {key} returned no value")));
        }
        // SAFETY: on success `out` points to a value; a string's data is a C string. The
        // value (a few bytes) is left to the library rather than freed through another
        // symbol.
        unsafe {
            let v = &*out;
            if v.kind != TYPE_STRING || v.data.is_null() {
                return Err(pmix_error(format!(
                    "{key} from rank {from} is not a string (type {})",
                    v.kind
                )));
            }
            Ok(CStr::from_ptr(v.data).to_string_lossy().into_owned())
        }
    }

    /// Disconnects from the PMIx server.
    pub fn finalize(self) -> Result<()> {
        // SAFETY: no info.
        check(
            unsafe { (self.finalize)(std::ptr::null(), 0) },
            "PMIx_Finalize",
        )
    }
}

/// Looks `name` up in the library `handle`.
///
/// # Safety
/// `handle` must be a live handle from `dlopen`.
unsafe fn symbol(handle: *mut c_void, name: &str) -> Result<*mut c_void> {
    let name_c = c_string("symbol", name)?;
    let sym = libc::dlsym(handle, name_c.as_ptr());
    if sym.is_null() {
        return Err(pmix_error(format!(
            "{LIBRARY} has no {name}: {}",
            dl_error()
        )));
    }
    Ok(sym)
}

fn dl_error() -> String {
    // SAFETY: dlerror returns null or a C string valid until the next dl call.
    let msg = unsafe { libc::dlerror() };
    if msg.is_null() {
        "unknown error".into()
    } else {
        // SAFETY: checked non-null above.
        unsafe { CStr::from_ptr(msg) }
            .to_string_lossy()
            .into_owned()
    }
}

fn c_string(what: &str, s: &str) -> Result<CString> {
    CString::new(s).map_err(|_| pmix_error(format!("the {what} {s:?} contains a NUL byte")))
}

fn check(rc: c_int, what: &str) -> Result<()> {
    if rc == SUCCESS {
        Ok(())
    } else {
        Err(pmix_error(format!("{what} failed with status {rc}")))
    }
}

fn pmix_error(msg: String) -> Error {
    Error::Config(format!("PMIx wire-up: {msg}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn structures_match_pmix_common_h() {
        assert_eq!(std::mem::size_of::<Proc>(), 260);
        assert_eq!(std::mem::size_of::<Value>(), 32);
        assert_eq!(std::mem::offset_of!(Value, data), 8);
    }
}
