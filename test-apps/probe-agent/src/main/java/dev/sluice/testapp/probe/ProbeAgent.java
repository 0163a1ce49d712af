package dev.sluice.testapp.probe;

import java.io.IOException;
import java.lang.instrument.ClassFileTransformer;
import java.lang.instrument.Instrumentation;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.security.ProtectionDomain;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Stands for any other agent. Attached with an output file as its argument, it writes the shape
 * (declared fields, methods, interfaces) of every loaded JDBC driver and data source class, then
 * retransforms those classes and writes whether the JVM accepted it.
 */
public final class ProbeAgent {

  public static void agentmain(String out, Instrumentation inst) throws IOException {
    List<String> lines = new ArrayList<>();
    List<Class<?>> targets = new ArrayList<>();
    for (Class<?> c : inst.getAllLoadedClasses()) {
      if (!c.isInterface()
          && !c.getName().startsWith("java")
          && (java.sql.Driver.class.isAssignableFrom(c)
              || javax.sql.DataSource.class.isAssignableFrom(c))
          && inst.isModifiableClass(c)) {
        targets.add(c);
        lines.add("shape " + shape(c));
      }
    }
    lines.sort(null);
    AtomicInteger seen = new AtomicInteger();
    ClassFileTransformer passThrough =
        new ClassFileTransformer() {
          @Override
          public byte[] transform(
              ClassLoader loader,
              String name,
              Class<?> redefined,
              ProtectionDomain pd,
              byte[] bytes) {
            seen.incrementAndGet();
            return null;
          }
        };
    inst.addTransformer(passThrough, true);
    try {
      inst.retransformClasses(targets.toArray(new Class<?>[0]));
      lines.add("retransformed " + targets.size() + " classes, saw " + seen.get());
    } catch (Throwable t) {
      lines.add("failed " + t);
    } finally {
      inst.removeTransformer(passThrough);
    }
    Files.write(Paths.get(out), lines, StandardCharsets.UTF_8);
  }

  public static void premain(String out, Instrumentation inst) throws IOException {
    agentmain(out, inst);
  }

  private static String shape(Class<?> c) {
    List<String> members = new ArrayList<>();
    for (Field f : c.getDeclaredFields()) {
      members.add("field " + f.toGenericString());
    }
    for (Method m : c.getDeclaredMethods()) {
      members.add("method " + m.toGenericString());
    }
    members.sort(null);
    return c.getName() + " implements " + Arrays.toString(c.getInterfaces()) + " " + members;
  }
}
