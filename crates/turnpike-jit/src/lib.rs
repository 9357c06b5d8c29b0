//! Turnpike's JIT: bodies of the typed IR compiled to native code with Cranelift, the
//! interpreter being the oracle they must agree with (`spec/13-jit.md`).
//!
//! A batch of bodies compiles into one [`CodeOwner`], which owns the code memory and frees it
//! when the last [`Compiled`] function from it is dropped: a reloaded generation leaks nothing
//! ([`live_code_bytes`] counts what is mapped). A body that uses a form the lowering does not
//! cover yet gives [`Unsupported`]; callers run that body on the interpreter.

pub mod host;
pub mod lower;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use cranelift_codegen::ir::UserFuncName;
use cranelift_codegen::settings::{self, Configurable};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{FuncId, Linkage, Module, default_libcall_names};
use std::rc::Rc;

use turnpike_interp::{Context, Exception, Options, Value};
use turnpike_ir::ir::Body;
use turnpike_ir::{Prim, Ty};

use crate::host::{Frame, HostState, JitCtx, Status};
pub use crate::lower::Unsupported;
use crate::lower::{HostRefs, Lower};

/// Bytes of native code currently mapped by live [`CodeOwner`]s.
static LIVE_CODE_BYTES: AtomicUsize = AtomicUsize::new(0);

/// Bytes of native code currently mapped (for leak tests and metrics).
pub fn live_code_bytes() -> usize {
    LIVE_CODE_BYTES.load(Ordering::SeqCst)
}

/// The code memory of one compiled batch.
pub struct CodeOwner {
    module: Option<JITModule>,
    bytes: usize,
}

impl std::fmt::Debug for CodeOwner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CodeOwner")
            .field("bytes", &self.bytes)
            .finish()
    }
}

// SAFETY: a `CodeOwner` exposes nothing: no method reads the module, and the only use of it
// is `free_memory` in `drop`, which has exclusive access. What makes `JITModule` neither `Send`
// nor `Sync` is raw pointers into its own code memory and a `RefCell` of symbol addresses,
// none of which is touched after `finalize_definitions`; unmapping that memory from whichever
// thread drops the last `Arc` is sound. So the owner may move between and be shared by the
// gateway's worker threads.
#[allow(unsafe_code)]
unsafe impl Send for CodeOwner {}
// SAFETY: as above: a shared `&CodeOwner` gives access to nothing.
#[allow(unsafe_code)]
unsafe impl Sync for CodeOwner {}

impl Drop for CodeOwner {
    #[allow(unsafe_code)] // Freeing the code memory.
    fn drop(&mut self) {
        if let Some(module) = self.module.take() {
            // SAFETY: every function pointer into this module lives in a `Compiled`, and every
            // `Compiled` holds an `Arc<CodeOwner>`; this runs only when the last of them is
            // gone, so no pointer into the memory freed here can still be called.
            unsafe { module.free_memory() };
            LIVE_CODE_BYTES.fetch_sub(self.bytes, Ordering::SeqCst);
        }
    }
}

type NativeFn = unsafe extern "C" fn(*mut JitCtx, *mut u64) -> u32;

/// What a body's native function leaves in its out slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ret {
    /// Nothing (`void`).
    Void,
    /// The bits of a register value.
    Reg(Prim),
    /// A value handle.
    Handle,
}

/// One body compiled to native code.
pub struct Compiled {
    func: NativeFn,
    ret: Ret,
    /// Its value frame.
    frame: Frame,
    /// The body: host functions read its nodes by address while the code runs.
    _body: Arc<Body>,
    _owner: Arc<CodeOwner>,
}

impl std::fmt::Debug for Compiled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Compiled")
            .field("ret", &self.ret)
            .finish_non_exhaustive()
    }
}

impl Compiled {
    /// Runs the body against a request context: its value, or the exception the
    /// interpreter would raise.
    #[allow(unsafe_code)] // Entering native code.
    pub fn run(&self, context: Rc<Context>, opts: &Options) -> Result<Value, Exception> {
        let mut host = HostState::take(context, opts, &self.frame);
        let mut ctx = JitCtx {
            fuel: opts.fuel,
            failed: 0,
            pad: 0,
            host: &raw mut *host,
        };
        let mut out: u64 = 0;
        // SAFETY: `func` is a function Cranelift compiled with the signature
        // `(ptr, ptr) -> i32` in the platform's C calling convention (`lower::body_signature`
        // with the ISA's default convention); both pointers point to live locals of this
        // frame with the layout the code expects (`JitCtx` is `repr(C)`, `out` is 8 bytes),
        // and `ctx.host` to the boxed state `host`, which outlives the call;
        // `_owner` keeps the code mapped for as long as `self` lives. The code cannot trap:
        // divisions are checked before they run and no other trapping instruction is emitted.
        let code = unsafe { (self.func)(&mut ctx, &mut out) };
        let r = match Status::from_code(code) {
            Status::Ok => Ok(match self.ret {
                Ret::Void => Value::Null,
                Ret::Reg(p) => host::decode(p, out),
                Ret::Handle => host.value(out),
            }),
            Status::Exception => Err(host.exception.take().unwrap_or_else(|| {
                Exception::new("InvalidOperationException", "internal error in native code")
            })),
            Status::DivideByZero => Err(Exception::divide_by_zero()),
            Status::Overflow => Err(Exception::overflow()),
            Status::NullReference => Err(Exception::null_ref()),
            Status::OutOfFuel => Err(Exception::out_of_fuel()),
            Status::Internal => Err(Exception::new(
                "InvalidOperationException",
                "internal error in native code",
            )),
        };
        host.give_back();
        r
    }
}

fn new_module() -> Result<JITModule, String> {
    let mut flags = settings::builder();
    for (k, v) in [
        ("opt_level", "speed"),
        ("use_colocated_libcalls", "false"),
        ("is_pic", "false"),
    ] {
        flags.set(k, v).map_err(|e| e.to_string())?;
    }
    let isa = cranelift_native::builder()
        .map_err(|e| e.to_string())?
        .finish(settings::Flags::new(flags))
        .map_err(|e| e.to_string())?;
    let mut jb = JITBuilder::with_isa(isa, default_libcall_names());
    for f in host::table() {
        jb.symbol(f.name, f.addr);
    }
    Ok(JITModule::new(jb))
}

/// Builds the Cranelift function of `body` into `func`, importing host functions.
fn build(
    module: &mut JITModule,
    func: &mut cranelift_codegen::ir::Function,
    fctx: &mut FunctionBuilderContext,
    body: &Body,
) -> Result<Frame, Unsupported> {
    let ptr_ty = module.target_config().pointer_type();
    let call_conv = module.isa().default_call_conv();
    lower::body_signature(ptr_ty, &mut func.signature);
    let mut refs = Vec::new();
    for f in host::table() {
        let sig = host::signature(&f, call_conv);
        let id = module
            .declare_function(f.name, Linkage::Import, &sig)
            .map_err(|e| Unsupported(format!("host function `{}`: {e}", f.name)))?;
        refs.push(module.declare_func_in_func(id, func));
    }
    let host = HostRefs {
        f64_rem: refs[0],
        f32_rem: refs[1],
        f64_to_int: refs[2],
        leaf: refs[3],
        boxed: refs[4],
        unbox: refs[5],
        call: refs[6],
        convert: refs[7],
        binary: refs[8],
        unary: refs[9],
        op: refs[10],
        island: refs[11],
        truth: refs[12],
        copy: refs[13],
    };
    let config = module.target_config();
    let r = Lower::run(FunctionBuilder::new(func, fctx), body, host, ptr_ty).map(|(b, frame)| {
        b.finalize(config);
        frame
    });
    if r.is_err() {
        // A body given up half-way leaves the builder's context dirty.
        *fctx = FunctionBuilderContext::new();
    }
    r
}

fn ret_of(body: &Body) -> Ret {
    match &body.ty {
        Ty::Void => Ret::Void,
        t => match lower::reg_prim(t) {
            Some(p) => Ret::Reg(p),
            None => Ret::Handle,
        },
    }
}

/// Compiles a batch of bodies into one block of code memory. Each result is the compiled
/// function or why the body stays on the interpreter.
#[allow(unsafe_code)] // Typing the finalized code's address as a function pointer.
pub fn compile_batch(bodies: &[&Body]) -> Vec<Result<Compiled, Unsupported>> {
    // Owned copies: native code holds the addresses of their nodes.
    let bodies: Vec<Arc<Body>> = bodies.iter().map(|b| Arc::new((*b).clone())).collect();
    let mut module = match new_module() {
        Ok(m) => m,
        Err(e) => {
            return bodies
                .iter()
                .map(|_| Err(Unsupported(format!("no native code on this machine: {e}"))))
                .collect();
        }
    };
    let mut ctx = module.make_context();
    let mut fctx = FunctionBuilderContext::new();
    let mut ids: Vec<Result<(FuncId, Ret, Frame), Unsupported>> = Vec::new();
    let mut bytes = 0usize;
    for (i, body) in bodies.iter().enumerate() {
        ctx.func.name = UserFuncName::user(0, i as u32);
        let r = build(&mut module, &mut ctx.func, &mut fctx, body).and_then(|slots| {
            let id = module
                .declare_function(&format!("body{i}"), Linkage::Local, &ctx.func.signature)
                .map_err(|e| Unsupported(e.to_string()))?;
            module
                .define_function(id, &mut ctx)
                .map_err(|e| Unsupported(format!("cranelift: {e:?}")))?;
            bytes += ctx
                .compiled_code()
                .map_or(0, |c| c.code_info().total_size as usize);
            Ok((id, ret_of(body), slots))
        });
        module.clear_context(&mut ctx);
        ids.push(r);
    }
    if let Err(e) = module.finalize_definitions() {
        return bodies
            .iter()
            .map(|_| Err(Unsupported(format!("cranelift: {e}"))))
            .collect();
    }
    let fns: Vec<_> = ids
        .iter()
        .map(|r| {
            r.as_ref()
                .map(|(id, ret, frame)| (module.get_finalized_function(*id), *ret, frame.clone()))
                .map_err(Clone::clone)
        })
        .collect();
    LIVE_CODE_BYTES.fetch_add(bytes, Ordering::SeqCst);
    let owner = Arc::new(CodeOwner {
        module: Some(module),
        bytes,
    });
    fns.into_iter()
        .zip(bodies)
        .map(|(r, body)| {
            r.map(|(ptr, ret, frame)| Compiled {
                _body: body,
                // SAFETY: `ptr` is the finalized code of a function defined with the signature
                // `NativeFn` describes (see `Compiled::run`); it stays mapped while `owner` lives.
                func: unsafe { std::mem::transmute::<*const u8, NativeFn>(ptr) },
                ret,
                frame,
                _owner: Arc::clone(&owner),
            })
        })
        .collect()
}

/// Whether two engines' outcomes are the same: the same value (floating point compared bit
/// for bit, any NaN equal to any NaN), or exceptions of the same type and message.
pub fn same_outcome(a: &Result<Value, Exception>, b: &Result<Value, Exception>) -> bool {
    match (a, b) {
        (Ok(Value::Double(x)), Ok(Value::Double(y))) => {
            x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan())
        }
        (Ok(Value::Float(x)), Ok(Value::Float(y))) => {
            x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan())
        }
        (Ok(x), Ok(y)) => format!("{x:?}") == format!("{y:?}"),
        (Err(x), Err(y)) => x.ty == y.ty && x.message == y.message,
        _ => false,
    }
}

/// Compiles one body.
pub fn compile(body: &Body) -> Result<Compiled, Unsupported> {
    compile_batch(&[body])
        .pop()
        .unwrap_or_else(|| Err(Unsupported("empty batch".into())))
}

/// The Cranelift IR of a body, as text (`turnpike compile --emit clif`).
pub fn clif(body: &Body) -> Result<String, Unsupported> {
    let mut module = new_module().map_err(Unsupported)?;
    let mut ctx = module.make_context();
    let mut fctx = FunctionBuilderContext::new();
    build(&mut module, &mut ctx.func, &mut fctx, body)?;
    let mut text = ctx.func.display().to_string();
    // Imports print by number: name them.
    for (i, f) in host::table().iter().enumerate() {
        text.push_str(&format!("; fn{i} = {}\n", f.name));
    }
    Ok(text)
}
