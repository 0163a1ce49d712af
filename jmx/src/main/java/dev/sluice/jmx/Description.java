package dev.sluice.jmx;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * What an MXBean, one of its attributes (on the getter), operations or an operation's parameter
 * means, as JConsole and VisualVM show it: units, "since start", the values it takes. Read by
 * {@link DescribedBean}.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.TYPE, ElementType.METHOD, ElementType.PARAMETER})
public @interface Description {

  /** The text shown. */
  String value();

  /** A parameter's name (parameters only; class files do not keep them). */
  String name() default "";
}
