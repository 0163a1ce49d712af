package dev.sluice.instrumentation;

import static net.bytebuddy.matcher.ElementMatchers.declaresMethod;
import static net.bytebuddy.matcher.ElementMatchers.hasSuperType;
import static net.bytebuddy.matcher.ElementMatchers.isAbstract;
import static net.bytebuddy.matcher.ElementMatchers.isBridge;
import static net.bytebuddy.matcher.ElementMatchers.isInterface;
import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.not;
import static net.bytebuddy.matcher.ElementMatchers.returns;
import static net.bytebuddy.matcher.ElementMatchers.takesArgument;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

import dev.sluice.bootstrap.SluiceBridge;
import java.util.List;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.description.method.MethodDescription;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.matcher.ElementMatcher;

/**
 * Governs {@code java.sql.Driver.connect(String, Properties)} of every driver: a refused target
 * fails before the driver opens a socket, a URL naming a routing group's address is sent to the
 * group's member (the argument is replaced), and every connection the driver returns is tracked so
 * it can be aborted later.
 */
public final class DriverInstrumentation implements TypeInstrumentation {

  static final ElementMatcher.Junction<MethodDescription> CONNECT =
      named("connect")
          .and(takesArguments(2))
          .and(takesArgument(0, String.class))
          .and(takesArgument(1, named("java.util.Properties")))
          .and(returns(hasSuperType(named("java.sql.Connection"))))
          .and(not(isAbstract()))
          .and(not(isBridge()));

  @Override
  public ElementMatcher<TypeDescription> typeMatcher() {
    // The method name is a cheap test on the type at hand; the hierarchy walk comes last.
    return not(isInterface())
        .and(declaresMethod(CONNECT))
        .and(hasSuperType(named("java.sql.Driver")));
  }

  @Override
  public List<MethodAdvice> advice() {
    return List.of(new MethodAdvice(CONNECT, ConnectAdvice.class));
  }

  /** Inlined into {@code connect}; holds no state, forwards to the bootstrap bridge. */
  public static final class ConnectAdvice {
    private ConnectAdvice() {}

    @Advice.OnMethodEnter(skipOn = Throwable.class, suppress = Throwable.class)
    public static Object enter(
        @Advice.This Object driver,
        @Advice.Argument(value = 0, readOnly = false) String url,
        @Advice.Argument(1) Object info) {
      Object routed = SluiceBridge.route(driver, url, info);
      if (routed instanceof Throwable) {
        return routed;
      }
      url = (String) routed;
      return SluiceBridge.enterConnect(driver, url, info);
    }

    @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class)
    public static void exit(
        @Advice.Enter Object entered,
        @Advice.Argument(0) String url,
        @Advice.Return Object connection,
        @Advice.Thrown(readOnly = false) Throwable thrown) {
      Throwable refused = SluiceBridge.exitConnect(entered, url, connection);
      if (refused != null) {
        thrown = refused;
      }
    }
  }
}
