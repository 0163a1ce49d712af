package dev.sluice.instrumentation;

import java.util.List;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.matcher.ElementMatcher;

/** One instrumented type: which classes, and which advice goes into which of their methods. */
public interface TypeInstrumentation {

  ElementMatcher<TypeDescription> typeMatcher();

  /** The advice for a type the {@link #typeMatcher()} matched. */
  List<MethodAdvice> advice();
}
