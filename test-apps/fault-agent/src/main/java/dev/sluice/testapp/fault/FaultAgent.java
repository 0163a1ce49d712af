package dev.sluice.testapp.fault;

import static net.bytebuddy.matcher.ElementMatchers.named;

import java.lang.instrument.Instrumentation;
import net.bytebuddy.agent.builder.AgentBuilder;
import net.bytebuddy.asm.Advice;

/**
 * A second agent that breaks Sluice on purpose: every method named in its argument ({@code
 * class#method;class#method}) throws {@code IllegalStateException("injected fault")} on entry.
 * Classes already loaded are retransformed, so the order of the agents does not matter.
 */
public final class FaultAgent {

  private FaultAgent() {}

  public static void premain(String args, Instrumentation inst) {
    AgentBuilder builder =
        new AgentBuilder.Default()
            .disableClassFormatChanges()
            .with(AgentBuilder.RedefinitionStrategy.RETRANSFORMATION)
            .with(AgentBuilder.TypeStrategy.Default.DECORATE);
    for (String target : args.split(";")) {
      String[] parts = target.split("#", 2);
      builder =
          builder
              .type(named(parts[0]))
              .transform(
                  (b, type, loader, module, domain) ->
                      b.visit(Advice.to(Boom.class).on(named(parts[1]))));
    }
    builder.installOn(inst);
  }

  /** Inlined into the target: it throws before the method's own code runs. */
  static final class Boom {
    @Advice.OnMethodEnter
    static void enter() {
      throw new IllegalStateException("injected fault");
    }
  }
}
