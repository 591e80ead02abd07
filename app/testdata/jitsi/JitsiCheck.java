import java.io.*;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.*;
import java.security.interfaces.*;
import java.security.spec.*;
import java.util.*;

// JitsiCheck is the Java side of the jitsi app's interop test: it reads and
// writes sip-communicator.properties as Jitsi does, with java.util.Properties
// and the DSA KeyFactory.
//   read FILE      for every OTR key property print "key NAME FINGERPRINT"
//                  (a private key's y computed as g^x mod p and checked
//                  against its _publicKey), and for every other OTR
//                  property "prop NAME=VALUE"; sorted
//   gen FILE       write a store with a local key pair, an old-scheme contact
//                  key and a new-scheme fingerprint (Properties.store); print
//                  "fp WHO FINGERPRINT" for each
//   sanitize       print Jitsi's property id of every line of stdin
public class JitsiCheck {
    static final String OTR = "net.java.sip.communicator.plugin.otr.";

    // id spells s as Jitsi's OTR plugin does: a 'p' before a leading digit,
    // '_' for every char that is not a letter or digit.
    static String id(String s) {
        if (s.isEmpty()) return s;
        StringBuilder b = new StringBuilder();
        if (Character.isDigit(s.charAt(0))) b.append('p');
        for (char c : s.toCharArray()) b.append(Character.isLetterOrDigit(c) ? c : '_');
        return b.toString();
    }

    static String fingerprint(BigInteger p, BigInteger q, BigInteger g, BigInteger y) throws Exception {
        MessageDigest sha = MessageDigest.getInstance("SHA-1");
        for (BigInteger v : new BigInteger[] {p, q, g, y}) {
            byte[] b = v.toByteArray();
            if (b.length > 1 && b[0] == 0) b = Arrays.copyOfRange(b, 1, b.length);
            sha.update(new byte[] {(byte) (b.length >>> 24), (byte) (b.length >>> 16), (byte) (b.length >>> 8), (byte) b.length});
            sha.update(b);
        }
        StringBuilder s = new StringBuilder();
        for (byte x : sha.digest()) s.append(String.format("%02x", x & 0xff));
        return s.toString();
    }

    static String fingerprint(DSAPublicKey k) throws Exception {
        DSAParams a = k.getParams();
        return fingerprint(a.getP(), a.getQ(), a.getG(), k.getY());
    }

    public static void main(String[] args) throws Exception {
        KeyFactory kf = KeyFactory.getInstance("DSA");
        Base64.Decoder dec = Base64.getDecoder();
        Base64.Encoder enc = Base64.getEncoder();
        PrintStream out = new PrintStream(new FileOutputStream(FileDescriptor.out), false, "UTF-8");
        switch (args[0]) {
        case "read": {
            Properties p = new Properties();
            try (InputStream in = new FileInputStream(args[1])) { p.load(in); }
            List<String> lines = new ArrayList<>();
            for (String k : p.stringPropertyNames()) {
                if (!k.startsWith(OTR)) continue;
                String name = k.substring(OTR.length()), v = p.getProperty(k);
                if (name.endsWith("_privateKey")) {
                    DSAPrivateKey priv = (DSAPrivateKey) kf.generatePrivate(new PKCS8EncodedKeySpec(dec.decode(v)));
                    DSAParams a = priv.getParams();
                    BigInteger y = a.getG().modPow(priv.getX(), a.getP());
                    String pubName = k.substring(0, k.length() - "_privateKey".length()) + "_publicKey";
                    DSAPublicKey pub = (DSAPublicKey) kf.generatePublic(new X509EncodedKeySpec(dec.decode(p.getProperty(pubName))));
                    if (!pub.getY().equals(y) || !pub.getParams().getP().equals(a.getP())) throw new Exception(name + ": the public key is not the private key's");
                    lines.add("key " + name + " " + fingerprint(a.getP(), a.getQ(), a.getG(), y));
                } else if (name.endsWith("_publicKey")) {
                    lines.add("key " + name + " " + fingerprint((DSAPublicKey) kf.generatePublic(new X509EncodedKeySpec(dec.decode(v)))));
                } else {
                    lines.add("prop " + name + "=" + v);
                }
            }
            Collections.sort(lines);
            for (String l : lines) out.println(l);
            break;
        }
        case "gen": {
            KeyPairGenerator g = KeyPairGenerator.getInstance("DSA");
            g.initialize(1024);
            KeyPair alice = g.generateKeyPair(), bob = g.generateKeyPair(), carol = g.generateKeyPair();
            String uid = "Jabber:alice@example.org@example.org";
            Properties p = new Properties();
            String acc = "net.java.sip.communicator.impl.protocol.jabber.acc1";
            p.setProperty(acc, "acc1");
            p.setProperty(acc + ".ACCOUNT_UID", uid);
            p.setProperty(acc + ".USER_ID", "alice@example.org");
            p.setProperty(acc + ".PROTOCOL_NAME", "Jabber");
            p.setProperty(OTR + id(uid + ".privateKey"), enc.encodeToString(alice.getPrivate().getEncoded()));
            p.setProperty(OTR + id(uid + ".publicKey"), enc.encodeToString(alice.getPublic().getEncoded()));
            p.setProperty(OTR + id("bob@example.org.publicKey"), enc.encodeToString(bob.getPublic().getEncoded()));
            p.setProperty(OTR + id("bob@example.org.publicKey.verified"), "true");
            String fc = fingerprint((DSAPublicKey) carol.getPublic()).toUpperCase(Locale.ROOT);
            p.setProperty(OTR + id("carol@example.org.fingerprints"), fc);
            p.setProperty(OTR + id("carol@example.org" + fc + ".fingerprint.verified"), "true");
            try (OutputStream o = new FileOutputStream(args[1])) { p.store(o, null); }
            out.println("fp alice " + fingerprint((DSAPublicKey) alice.getPublic()));
            out.println("fp bob " + fingerprint((DSAPublicKey) bob.getPublic()));
            out.println("fp carol " + fc.toLowerCase(Locale.ROOT));
            break;
        }
        case "sanitize": {
            BufferedReader r = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            for (String l; (l = r.readLine()) != null; ) out.println(id(l));
            break;
        }
        }
        out.flush();
    }
}
