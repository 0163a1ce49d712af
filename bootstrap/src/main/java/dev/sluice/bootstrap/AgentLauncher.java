package dev.sluice.bootstrap;

import java.io.File;
import java.lang.instrument.Instrumentation;
import java.lang.reflect.InvocationTargetException;
import java.net.URL;

/**
 * {@code Premain-Class}, {@code Agent-Class} and {@code Main-Class} of the agent jar. It does
 * almost nothing: it puts the jar's bridge classes on the bootstrap class loader ({@link
 * BootstrapInjector}), creates the isolated {@link AgentClassLoader} for everything else and hands
 * over. A failure here is printed in one line and the application starts without the agent.
 */
public final class AgentLauncher {

  private static final String AGENT_CLASS = "dev.sluice.agent.SluiceAgent";
  private static final String CLI_CLASS = "dev.sluice.agent.cli.SluiceCli";
  private static final String BRIDGE_CLASS = "dev.sluice.bootstrap.SluiceBridge";

  /**
   * The system property naming this jar for the CLI's {@code attach} (not a {@code sluice.} key).
   */
  private static final String JAR_PROPERTY = "dev.sluice.agent.jar";

  private AgentLauncher() {}

  public static void premain(String agentArgs, Instrumentation inst) {
    launch(agentArgs, inst, false);
  }

  public static void agentmain(String agentArgs, Instrumentation inst) {
    launch(agentArgs, inst, true);
  }

  /** The command-line interface: {@code java -jar sluice-agent.jar ...}. */
  public static void main(String[] args) throws Exception {
    File jar = agentJar();
    System.setProperty(JAR_PROPERTY, jar.getPath());
    ClassLoader loader = new AgentClassLoader(jar, ClassLoader.getPlatformClassLoader());
    Thread.currentThread().setContextClassLoader(loader);
    try {
      loader.loadClass(CLI_CLASS).getMethod("main", String[].class).invoke(null, (Object) args);
    } catch (InvocationTargetException e) {
      Throwable cause = e.getCause();
      if (cause instanceof Exception) {
        throw (Exception) cause;
      }
      throw e;
    }
  }

  private static synchronized void launch(String agentArgs, Instrumentation inst, boolean late) {
    try {
      File jar = agentJar();
      if (!bridgeLoaded()) {
        String appended = BootstrapInjector.inject(inst, jar);
        if (appended != null) {
          System.err.println(
              "[sluice] INFO the bridge classes were appended to the bootstrap class path ("
                  + appended
                  + "); class data sharing is limited to the JDK's classes");
        }
      }
      if (!SluiceBridge.claimLaunch()) {
        System.err.println(
            "[sluice] INFO the agent is running in this JVM already; this further "
                + (late ? "attach" : "-javaagent")
                + " of "
                + jar
                + " does nothing, and its arguments are ignored");
        return;
      }
      ClassLoader loader = new AgentClassLoader(jar, ClassLoader.getPlatformClassLoader());
      loader
          .loadClass(AGENT_CLASS)
          .getMethod("start", String.class, Instrumentation.class, boolean.class)
          .invoke(null, agentArgs, inst, late);
    } catch (Throwable t) {
      Throwable cause = t instanceof InvocationTargetException ? t.getCause() : t;
      System.err.println(
          "[sluice] ERROR the agent could not start; the application runs without it: " + cause);
    }
  }

  /**
   * Whether an earlier load put the bridge on the bootstrap class path (the jar is appended once).
   */
  private static boolean bridgeLoaded() {
    try {
      Class.forName(BRIDGE_CLASS, false, null);
      return true;
    } catch (ClassNotFoundException e) {
      return false;
    }
  }

  static File agentJar() throws Exception {
    URL location = AgentLauncher.class.getProtectionDomain().getCodeSource().getLocation();
    return new File(location.toURI());
  }
}
