package dev.sluice.instrumentation;

import java.nio.charset.StandardCharsets;

/**
 * Decides from a class file's bytes alone, without parsing its code, whether it may need the
 * advice: most classes an application loads are passed over here, before Byte Buddy sees them.
 */
final class ClassFileScan {

  private static final String[] IGNORED_PREFIXES = {
    "java/", "jdk/", "sun/", "com/sun/", "net/bytebuddy/", "dev/sluice/shaded/"
  };

  // Every method the advice goes into has "Connection" in its name or its descriptor:
  // getConnection, getXAConnection, getPooledConnection, and connect(...) returning a connection.
  private static final byte[] CONNECTION = "Connection".getBytes(StandardCharsets.UTF_8);

  private static final byte[][] NAMES = {
    utf8("connect"), utf8("getConnection"), utf8("getXAConnection"), utf8("getPooledConnection"),
  };
  private static final byte NAME_CONNECT = 1;
  private static final byte NAME_GETTER = 2; // and above: the getters

  private static final byte[] CONNECT_DESCRIPTOR =
      utf8("(Ljava/lang/String;Ljava/util/Properties;)L");
  private static final byte[] NO_ARGS_DESCRIPTOR = utf8("()L");
  private static final byte[] CREDENTIALS_DESCRIPTOR =
      utf8("(Ljava/lang/String;Ljava/lang/String;)L");
  private static final byte DESCRIPTOR_CONNECT = 16;
  private static final byte DESCRIPTOR_GETTER = 17;

  private static final int ACC_STATIC = 0x0008;
  private static final int ACC_ABSTRACT = 0x0400;

  private ClassFileScan() {}

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  /** Whether the class belongs to the JDK, Byte Buddy or the agent: never instrumented. */
  static boolean ignored(String internalName) {
    for (String prefix : IGNORED_PREFIXES) {
      if (internalName.startsWith(prefix)) {
        return true;
      }
    }
    return false;
  }

  /** Whether the class file's bytes contain {@code Connection} at all: the cheapest test. */
  static boolean mentionsConnection(byte[] bytes) {
    byte first = CONNECTION[0];
    int last = bytes.length - CONNECTION.length;
    outer:
    for (int i = 0; i <= last; i++) {
      if (bytes[i] != first) {
        continue;
      }
      for (int j = 1; j < CONNECTION.length; j++) {
        if (bytes[i + j] != CONNECTION[j]) {
          continue outer;
        }
      }
      return true;
    }
    return false;
  }

  /**
   * Whether the class file declares a concrete {@code connect(String, Properties)}, or an instance
   * {@code getConnection}, {@code getXAConnection} or {@code getPooledConnection} taking no
   * arguments or {@code (String, String)}, each returning an object (any type: a covariant return
   * type is resolved later by Byte Buddy). One pass over the constant pool and the method table, no
   * parsing of code; code that only calls such methods is passed over. A class file it cannot read
   * is left to Byte Buddy.
   */
  static boolean declaresConnectionMethod(byte[] b) {
    try {
      int count = u2(b, 8);
      byte[] kind = new byte[count];
      int p = 10;
      for (int i = 1; i < count; i++) {
        int tag = b[p] & 0xff;
        switch (tag) {
          case 1: // Utf8
            int length = u2(b, p + 1);
            kind[i] = classify(b, p + 3, length);
            p += 3 + length;
            break;
          case 3: // Integer
          case 4: // Float
          case 9: // Fieldref
          case 10: // Methodref
          case 11: // InterfaceMethodref
          case 12: // NameAndType
          case 17: // Dynamic
          case 18: // InvokeDynamic
            p += 5;
            break;
          case 5: // Long
          case 6: // Double
            p += 9;
            i++;
            break;
          case 7: // Class
          case 8: // String
          case 16: // MethodType
          case 19: // Module
          case 20: // Package
            p += 3;
            break;
          case 15: // MethodHandle
            p += 4;
            break;
          default:
            return true;
        }
      }
      p += 6; // access flags, this class, super class
      p += 2 + 2 * u2(b, p); // interfaces
      int fields = u2(b, p);
      p += 2;
      for (int f = 0; f < fields; f++) {
        p = skipAttributes(b, p + 6);
      }
      int methods = u2(b, p);
      p += 2;
      for (int m = 0; m < methods; m++) {
        int access = u2(b, p);
        int name = kind[u2(b, p + 2)];
        int descriptor = kind[u2(b, p + 4)];
        if ((access & ACC_ABSTRACT) == 0) {
          if (name == NAME_CONNECT && descriptor == DESCRIPTOR_CONNECT) {
            return true;
          }
          if (name >= NAME_GETTER
              && name < DESCRIPTOR_CONNECT
              && descriptor == DESCRIPTOR_GETTER
              && (access & ACC_STATIC) == 0) {
            return true;
          }
        }
        p = skipAttributes(b, p + 6);
      }
      return false;
    } catch (RuntimeException unreadable) {
      return true;
    }
  }

  private static int skipAttributes(byte[] b, int p) {
    int attributes = u2(b, p);
    p += 2;
    for (int a = 0; a < attributes; a++) {
      p += 6 + u4(b, p + 2);
    }
    return p;
  }

  private static byte classify(byte[] b, int offset, int length) {
    for (int n = 0; n < NAMES.length; n++) {
      if (equal(b, offset, length, NAMES[n])) {
        return (byte) (1 + n);
      }
    }
    if (length > 0 && b[offset] == '(') {
      if (startsWith(b, offset, length, CONNECT_DESCRIPTOR)) {
        return DESCRIPTOR_CONNECT;
      }
      if (startsWith(b, offset, length, NO_ARGS_DESCRIPTOR)
          || startsWith(b, offset, length, CREDENTIALS_DESCRIPTOR)) {
        return DESCRIPTOR_GETTER;
      }
    }
    return 0;
  }

  private static boolean equal(byte[] b, int offset, int length, byte[] expected) {
    return length == expected.length && startsWith(b, offset, length, expected);
  }

  private static boolean startsWith(byte[] b, int offset, int length, byte[] prefix) {
    if (length < prefix.length) {
      return false;
    }
    for (int i = 0; i < prefix.length; i++) {
      if (b[offset + i] != prefix[i]) {
        return false;
      }
    }
    return true;
  }

  private static int u2(byte[] b, int p) {
    return ((b[p] & 0xff) << 8) | (b[p + 1] & 0xff);
  }

  private static int u4(byte[] b, int p) {
    return ((b[p] & 0xff) << 24)
        | ((b[p + 1] & 0xff) << 16)
        | ((b[p + 2] & 0xff) << 8)
        | (b[p + 3] & 0xff);
  }
}
