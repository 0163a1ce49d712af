package dev.sluice.bench;

import java.lang.instrument.ClassFileTransformer;
import java.lang.instrument.Instrumentation;
import java.security.ProtectionDomain;

/**
 * A Java agent whose class file transformer changes nothing: what any agent with a transformer
 * costs an application's start-up (the JVM hands it every class file, also those of a CDS archive,
 * which it then reads from their jars), the floor under Sluice's own figures. With the argument
 * {@code bare} it registers no transformer at all: what {@code -javaagent} itself costs.
 */
public final class NopAgent {

  private NopAgent() {}

  public static void premain(String args, Instrumentation inst) {
    if ("bare".equals(args)) {
      return;
    }
    inst.addTransformer(
        new ClassFileTransformer() {
          @Override
          public byte[] transform(
              Module module,
              ClassLoader loader,
              String name,
              Class<?> redefined,
              ProtectionDomain domain,
              byte[] bytes) {
            return null;
          }
        },
        true);
  }
}
