package dev.sluice.instrumentation;

import net.bytebuddy.description.method.MethodDescription;
import net.bytebuddy.matcher.ElementMatcher;

/** A class of static {@code @Advice} methods and the methods it is inlined into. */
public final class MethodAdvice {

  final ElementMatcher<? super MethodDescription> methods;
  final Class<?> adviceClass;

  MethodAdvice(ElementMatcher<? super MethodDescription> methods, Class<?> adviceClass) {
    this.methods = methods;
    this.adviceClass = adviceClass;
  }

  /** The methods this advice goes into. */
  public ElementMatcher<? super MethodDescription> methods() {
    return methods;
  }

  public Class<?> adviceClass() {
    return adviceClass;
  }
}
