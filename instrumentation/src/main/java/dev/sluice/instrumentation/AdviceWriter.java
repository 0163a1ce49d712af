package dev.sluice.instrumentation;

import org.objectweb.asm.Label;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Opcodes;
import org.objectweb.asm.Type;

/**
 * Weaves one advice into one method: calls to the bootstrap bridge on entry and on exit, the
 * method's own code untouched between them. Every call to the bridge is guarded: whatever it throws
 * (a class loader that cannot see the bridge included) is dropped and the method goes on as if the
 * advice were not there.
 *
 * <p>The shape, for advice that runs on entry and on every exit:
 *
 * <pre>
 *   self = this; [url or user, password = arguments]
 *   try { entered = SluiceBridge.enter...(...) } catch (Throwable t) { entered = null }
 *   if (entered instanceof Throwable) { result = null; thrown = null; goto exit }
 *   ...the method's code, each {@code return x} replaced by {@code result = x; thrown = null; goto exit}
 *   (anything thrown out of it:) thrown = t; result = null
 * exit:
 *   try { ...SluiceBridge.exit...(entered, ..., result, thrown): may replace result or thrown }
 *   catch (Throwable t) {}
 *   if (thrown != null) throw thrown; return (ReturnType) result;
 * </pre>
 *
 * The exit block comes after the method's code, outside its own exception handlers, and the handler
 * around the method's code is the last in the exception table, so the method's handlers see what
 * they saw before. The advice's locals come after the method's own ({@code max_locals}); the
 * class's stack map frames are computed again by ASM.
 */
final class AdviceWriter extends MethodVisitor {

  private static final String BRIDGE = "dev/sluice/bootstrap/SluiceBridge";
  private static final String THROWABLE = "java/lang/Throwable";
  private static final String DATA_SOURCE = "javax/sql/DataSource";

  private static final String O = "Ljava/lang/Object;";
  private static final String S = "Ljava/lang/String;";
  private static final String T = "Ljava/lang/Throwable;";

  private final AdviceKind kind;
  private final String returnType;
  // the advice's locals
  private final int self;
  private final int entered;
  private final int first; // url or user
  private final int second; // password
  private final int result;
  private final int thrown;
  private final int scratch;

  private final Label bodyStart = new Label();
  private final Label exit = new Label();

  AdviceWriter(MethodVisitor mv, AdviceKind kind, String descriptor, int maxLocals) {
    super(Opcodes.ASM9, mv);
    this.kind = kind;
    Type returned = Type.getReturnType(descriptor);
    this.returnType = returned.getSort() == Type.OBJECT ? returned.getInternalName() : null;
    this.self = maxLocals;
    this.entered = maxLocals + 1;
    this.first = maxLocals + 2;
    this.second = maxLocals + 3;
    this.result = maxLocals + 4;
    this.thrown = maxLocals + 5;
    this.scratch = maxLocals + 6;
  }

  @Override
  public void visitCode() {
    super.visitCode();
    if (kind == AdviceKind.CREATED) {
      return; // a constructor's `this` is not initialized before its super call: read at exit
    }
    load(0);
    store(self);
    if (!kind.entered) {
      return;
    }
    if (kind == AdviceKind.CONNECT || kind == AdviceKind.CREDENTIALS_BORROW) {
      load(1);
      store(first);
    }
    if (kind == AdviceKind.CREDENTIALS_BORROW) {
      load(2);
      store(second);
    }
    mv.visitInsn(Opcodes.ACONST_NULL);
    store(entered);
    guarded(this::enter);
    // a refusal skips the method's code
    load(entered);
    mv.visitTypeInsn(Opcodes.INSTANCEOF, THROWABLE);
    mv.visitJumpInsn(Opcodes.IFEQ, bodyStart);
    mv.visitInsn(Opcodes.ACONST_NULL);
    store(result);
    mv.visitInsn(Opcodes.ACONST_NULL);
    store(thrown);
    mv.visitJumpInsn(Opcodes.GOTO, exit);
    mv.visitLabel(bodyStart);
  }

  private void enter() {
    switch (kind) {
      case CONNECT:
        {
          // the URL to open: a routing group's member in place of the group's address
          Label checked = new Label();
          load(self);
          load(1);
          load(2);
          call("route", "(" + O + S + O + ")" + O);
          store(scratch);
          load(scratch);
          mv.visitTypeInsn(Opcodes.INSTANCEOF, THROWABLE);
          Label routed = new Label();
          mv.visitJumpInsn(Opcodes.IFEQ, routed);
          load(scratch);
          store(entered);
          mv.visitJumpInsn(Opcodes.GOTO, checked);
          mv.visitLabel(routed);
          load(scratch);
          mv.visitTypeInsn(Opcodes.CHECKCAST, "java/lang/String");
          mv.visitInsn(Opcodes.DUP);
          store(1);
          store(first);
          load(self);
          load(first);
          load(2);
          call("enterConnect", "(" + O + S + O + ")" + O);
          store(entered);
          mv.visitLabel(checked);
          break;
        }
      case BORROW:
      case CREDENTIALS_BORROW:
        {
          Label notDataSource = new Label();
          load(self);
          mv.visitTypeInsn(Opcodes.INSTANCEOF, DATA_SOURCE);
          mv.visitJumpInsn(Opcodes.IFEQ, notDataSource);
          load(self);
          call("enterBorrow", "(" + O + ")" + O);
          store(entered);
          mv.visitLabel(notDataSource);
          break;
        }
      case OPEN_POOLED:
        load(self);
        call("enterPooledSource", "(" + O + ")" + O);
        store(entered);
        break;
      default:
        throw new IllegalStateException(kind + " has no entry advice");
    }
  }

  @Override
  public void visitInsn(int opcode) {
    if (opcode == Opcodes.ARETURN && kind != AdviceKind.CREATED) {
      store(result);
      if (kind.entered) {
        mv.visitInsn(Opcodes.ACONST_NULL);
        store(thrown);
      }
      mv.visitJumpInsn(Opcodes.GOTO, exit);
      return;
    }
    if (opcode == Opcodes.RETURN && kind == AdviceKind.CREATED) {
      mv.visitJumpInsn(Opcodes.GOTO, exit);
      return;
    }
    super.visitInsn(opcode);
  }

  @Override
  public void visitMaxs(int maxStack, int maxLocals) {
    if (kind.entered) {
      Label bodyEnd = new Label();
      Label handler = new Label();
      mv.visitLabel(bodyEnd);
      mv.visitTryCatchBlock(bodyStart, bodyEnd, handler, THROWABLE);
      mv.visitLabel(handler);
      store(thrown);
      mv.visitInsn(Opcodes.ACONST_NULL);
      store(result);
    }
    mv.visitLabel(exit);
    switch (kind) {
      case CREATED:
        guarded(
            () -> {
              Label done = new Label();
              load(0);
              mv.visitTypeInsn(Opcodes.INSTANCEOF, DATA_SOURCE);
              mv.visitJumpInsn(Opcodes.IFEQ, done);
              load(0);
              call("dataSourceCreated", "(" + O + ")V");
              mv.visitLabel(done);
            });
        mv.visitInsn(Opcodes.RETURN);
        break;
      case HANDLE:
        guarded(
            () -> {
              load(self);
              load(result);
              call("handleOpened", "(" + O + O + ")V");
            });
        returnResult();
        break;
      default:
        exitEntered();
        Label normal = new Label();
        load(thrown);
        mv.visitJumpInsn(Opcodes.IFNULL, normal);
        load(thrown);
        mv.visitInsn(Opcodes.ATHROW);
        mv.visitLabel(normal);
        returnResult();
        break;
    }
    super.visitMaxs(maxStack, maxLocals);
  }

  private void exitEntered() {
    Label skip = new Label();
    if (kind == AdviceKind.BORROW || kind == AdviceKind.CREDENTIALS_BORROW) {
      // no token: not a data source, or the entry advice failed; stay out of the way
      load(entered);
      mv.visitJumpInsn(Opcodes.IFNULL, skip);
    }
    guarded(
        () -> {
          switch (kind) {
            case CONNECT:
              load(entered);
              load(first);
              load(result);
              call("exitConnect", "(" + O + S + O + ")" + T);
              replaceThrown();
              break;
            case OPEN_POOLED:
              load(entered);
              load(self);
              load(result);
              call("exitPooledSource", "(" + O + O + O + ")" + T);
              replaceThrown();
              break;
            default: // the borrows
              load(entered);
              load(self);
              boolean credentials = kind == AdviceKind.CREDENTIALS_BORROW;
              mv.visitInsn(credentials ? Opcodes.ICONST_1 : Opcodes.ICONST_0);
              if (credentials) {
                load(first);
                load(second);
              } else {
                mv.visitInsn(Opcodes.ACONST_NULL);
                mv.visitInsn(Opcodes.ACONST_NULL);
              }
              load(result);
              load(thrown);
              call("exitBorrow", "(" + O + O + "Z" + S + S + O + T + ")" + O);
              replaceOutcome();
              break;
          }
        });
    mv.visitLabel(skip);
  }

  /** The refusal on the stack, if any, becomes what the method throws. */
  private void replaceThrown() {
    Label none = new Label();
    store(scratch);
    load(scratch);
    mv.visitJumpInsn(Opcodes.IFNULL, none);
    load(scratch);
    store(thrown);
    mv.visitLabel(none);
  }

  /**
   * The borrow's outcome on the stack: a {@link Throwable} to throw, or the connection to return in
   * place of the one the method returned (or of what it threw).
   */
  private void replaceOutcome() {
    Label done = new Label();
    Label notThrown = new Label();
    store(scratch);
    load(scratch);
    mv.visitTypeInsn(Opcodes.INSTANCEOF, THROWABLE);
    mv.visitJumpInsn(Opcodes.IFEQ, notThrown);
    load(scratch);
    mv.visitTypeInsn(Opcodes.CHECKCAST, THROWABLE);
    store(thrown);
    mv.visitJumpInsn(Opcodes.GOTO, done);
    mv.visitLabel(notThrown);
    load(scratch);
    mv.visitJumpInsn(Opcodes.IFNULL, done);
    load(scratch);
    load(result);
    mv.visitJumpInsn(Opcodes.IF_ACMPEQ, done);
    load(scratch);
    mv.visitTypeInsn(Opcodes.CHECKCAST, returnType);
    store(result);
    mv.visitInsn(Opcodes.ACONST_NULL);
    store(thrown);
    mv.visitLabel(done);
  }

  private void returnResult() {
    load(result);
    mv.visitTypeInsn(Opcodes.CHECKCAST, returnType);
    mv.visitInsn(Opcodes.ARETURN);
  }

  /** Emits {@code code} inside {@code try { ... } catch (Throwable t) {}}. */
  private void guarded(Runnable code) {
    Label start = new Label();
    Label end = new Label();
    Label handler = new Label();
    Label after = new Label();
    mv.visitTryCatchBlock(start, end, handler, THROWABLE);
    mv.visitLabel(start);
    code.run();
    mv.visitLabel(end);
    mv.visitJumpInsn(Opcodes.GOTO, after);
    mv.visitLabel(handler);
    mv.visitInsn(Opcodes.POP);
    mv.visitLabel(after);
  }

  private void call(String name, String descriptor) {
    mv.visitMethodInsn(Opcodes.INVOKESTATIC, BRIDGE, name, descriptor, false);
  }

  private void load(int local) {
    mv.visitVarInsn(Opcodes.ALOAD, local);
  }

  private void store(int local) {
    mv.visitVarInsn(Opcodes.ASTORE, local);
  }
}
