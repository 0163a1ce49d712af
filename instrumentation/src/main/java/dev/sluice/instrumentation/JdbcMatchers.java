package dev.sluice.instrumentation;

import static net.bytebuddy.matcher.ElementMatchers.hasSuperType;
import static net.bytebuddy.matcher.ElementMatchers.isAbstract;
import static net.bytebuddy.matcher.ElementMatchers.isBridge;
import static net.bytebuddy.matcher.ElementMatchers.isStatic;
import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.not;
import static net.bytebuddy.matcher.ElementMatchers.returns;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

import net.bytebuddy.description.method.MethodDescription;
import net.bytebuddy.matcher.ElementMatcher;

/** Method matchers shared by the instrumentations. */
final class JdbcMatchers {

  private JdbcMatchers() {}

  /**
   * A concrete instance method named {@code name} with no arguments or {@code (String, String)},
   * returning {@code returnType} or any subtype of it: a covariant override ({@code
   * DruidPooledConnection getConnection()}) is the method that does the work, whether the caller
   * holds the pool's own type or {@code javax.sql.DataSource}. The compiler's bridge method only
   * calls it, so bridges are left alone and each call is governed once.
   */
  static ElementMatcher.Junction<MethodDescription> connectionGetter(
      String name, String returnType, boolean credentials) {
    return named(name)
        .and(credentials ? takesArguments(String.class, String.class) : takesArguments(0))
        .and(returns(hasSuperType(named(returnType))))
        .and(not(isStatic()))
        .and(not(isAbstract()))
        .and(not(isBridge()));
  }
}
