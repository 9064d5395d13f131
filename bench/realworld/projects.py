"""The real-world corpus: Debian bookworm source packages of GLib and liburcu users.

Each project is pinned to one Debian version. `build` says how its compile database is
made: "meson" runs `meson setup` (which writes compile_commands.json) and then builds
only the custom targets that generate .c/.h files; "autotools" runs configure with clang-19
and then `make -k` with recordcc.py as the compiler (it records every compile command and
compiles nothing, so only the build's scripts run); "cmake" configures with Ninja and
CMAKE_EXPORT_COMPILE_COMMANDS, then builds only the generated sources, as for meson.
clang-19, -O0 -g0, two jobs at most.
"""

COMMON_CFLAGS = "-O0 -g0"

PROJECTS = [
    {
        "name": "glib",
        "kind": "library (GLib, GIO, GObject)",
        "source": "glib2.0",
        "version": "2.74.6-2+deb12u9",
        "build": "meson",
        "args": ["-Dman=false", "-Dgtk_doc=false", "-Dtests=true", "-Dinstalled_tests=false",
                 "-Dselinux=disabled", "-Dlibelf=disabled", "-Dsysprof=disabled",
                 "-Ddtrace=false", "-Dsystemtap=false", "-Dnls=disabled"],
    },
    {
        "name": "lttng-tools",
        "kind": "tracing toolkit (liburcu cds_lfht)",
        "source": "ltt-control",
        "version": "2.13.9-1+deb12u1",
        "build": "autotools",
        "args": ["--without-lttng-ust", "--disable-man-pages", "--disable-python-bindings"],
    },
    {
        "name": "pacemaker",
        "kind": "cluster resource manager",
        "source": "pacemaker",
        "version": "2.1.5-1+deb12u1",
        "build": "autotools",
        "autoreconf": True,
        "args": ["--with-corosync", "--without-doc", "--disable-fatal-warnings"],
    },
    {
        "name": "hexchat",
        "kind": "IRC chat client (GTK 2)",
        "source": "hexchat",
        "version": "2.16.1-1",
        "build": "meson",
        "args": ["-Ddbus=disabled", "-Dlibcanberra=disabled", "-Dwith-lua=false",
                 "-Dwith-perl=false", "-Dwith-python=false", "-Dwith-sysinfo=false",
                 "-Dtext-frontend=true"],
    },
    {
        "name": "sylpheed",
        "kind": "mail client (GTK 2)",
        "source": "sylpheed",
        "version": "3.8.0~beta1-1+deb12u1",
        "build": "autotools",
        "args": ["--disable-gpgme", "--disable-compface", "--disable-gtkspell",
                 "--disable-oniguruma", "--disable-updatecheck", "--disable-ldap"],
    },
    {
        "name": "bluez",
        "kind": "Bluetooth daemon and tools",
        "source": "bluez",
        "version": "5.66-1+deb12u2",
        "build": "autotools",
        "autoreconf": True,
        "in_tree": True,
        "args": ["--disable-systemd", "--disable-cups", "--disable-manpages", "--enable-library",
                 "--disable-datafiles", "--enable-experimental",
                 "--with-udevdir=/usr/lib/udev"],
    },
    {
        "name": "bitlbee",
        "kind": "IRC to IM gateway (its own XMPP, Twitter, MSN, OSCAR code on GLib)",
        "source": "bitlbee",
        "version": "3.6-1.3",
        "build": "autotools",
        "in_tree": True,
        "configured": "Makefile.settings",
        # Its own configure script (not autoconf): --purple=1 would drop the native protocols.
        "args": ["--jabber=1", "--twitter=1", "--purple=0", "--otr=0", "--ssl=gnutls",
                 "--doc=0", "--events=glib"],
    },
    {
        "name": "network-manager",
        "kind": "network configuration daemon (GLib/GObject, D-Bus)",
        "source": "network-manager",
        "version": "1.42.4-1+deb12u1",
        "build": "meson",
        "args": ["-Dsession_tracking=no", "-Dsession_tracking_consolekit=false",
                 "-Dsuspend_resume=upower", "-Dpolkit=false", "-Dselinux=false",
                 "-Dsystemd_journal=false", "-Dlibaudit=no", "-Dppp=false",
                 "-Dmodem_manager=false", "-Dovs=false", "-Dnmtui=false",
                 "-Dintrospection=false", "-Dvapi=false", "-Dtests=yes", "-Dlibpsl=false",
                 "-Dcrypto=gnutls", "-Dqt=false", "-Dfirewalld_zone=false", "-Debpf=false",
                 "-Dconcheck=false", "-Ddocs=false", "-Dnm_cloud_setup=false",
                 "-Dreadline=libreadline"],
    },
    {
        "name": "evolution-data-server",
        "kind": "mail, calendar and address book backend (Camel mail library, GObject)",
        "source": "evolution-data-server",
        "version": "3.46.4-2+deb12u1",
        "build": "cmake",
        "args": ["-DENABLE_GTK=OFF", "-DENABLE_GTK4=OFF", "-DENABLE_GOA=OFF",
                 "-DENABLE_WEATHER=OFF", "-DENABLE_CANBERRA=OFF", "-DENABLE_EXAMPLES=OFF",
                 "-DENABLE_INTROSPECTION=OFF", "-DENABLE_VALA_BINDINGS=OFF",
                 "-DENABLE_OAUTH2_WEBKITGTK=OFF", "-DENABLE_OAUTH2_WEBKITGTK4=OFF",
                 "-DWITH_OPENLDAP=OFF", "-DWITH_KRB5=OFF", "-DWITH_PHONENUMBER=OFF",
                 "-DENABLE_GTK_DOC=OFF", "-DWITH_LIBDB=OFF", "-DENABLE_INSTALLED_TESTS=OFF",
                 "-DWITH_SYSTEMDUSERUNITDIR=no"],
    },
    {
        "name": "gstreamer",
        "kind": "multimedia framework core (GObject; GHashTable under GMutex, streaming threads)",
        "source": "gstreamer1.0",
        "version": "1.22.0-2+deb12u1",
        "build": "meson",
        "args": ["-Dintrospection=disabled", "-Ddoc=disabled", "-Dnls=disabled",
                 "-Dlibunwind=disabled", "-Dlibdw=disabled", "-Dbash-completion=disabled",
                 "-Dexamples=disabled", "-Dtests=enabled", "-Dcheck=enabled",
                 "-Dbenchmarks=disabled", "-Dptp-helper-permissions=none"],
    },
    {
        "name": "gvfs",
        "kind": "GIO virtual file system daemons and backends (GLib, job threads)",
        "source": "gvfs",
        "version": "1.50.3-1+deb12u1",
        "build": "meson",
        "args": ["-Dadmin=false", "-Dafc=false", "-Dafp=true", "-Darchive=false",
                 "-Dcdda=false", "-Ddnssd=false", "-Dgoa=false", "-Dgoogle=false",
                 "-Dgphoto2=false", "-Dhttp=true", "-Dmtp=false", "-Dnfs=false",
                 "-Dsftp=true", "-Dsmb=false", "-Dudisks2=false", "-Dbluray=false",
                 "-Dfuse=false", "-Dgcr=false", "-Dgcrypt=true", "-Dgudev=false",
                 "-Dkeyring=true", "-Dlogind=false", "-Dlibusb=false",
                 "-Dsystemduserunitdir=no", "-Dtmpfilesdir=no"],
    },
    {
        "name": "knot",
        "kind": "authoritative DNS server (liburcu read-side sections, worker threads)",
        "source": "knot",
        "version": "3.2.6-1",
        "build": "autotools",
        "args": ["--enable-xdp=no", "--enable-quic=no", "--disable-dnstap",
                 "--enable-maxminddb=no", "--with-libidn=no", "--with-libnghttp2=no",
                 "--disable-documentation", "--enable-systemd=no", "--enable-cap-ng=no"],
    },
    {
        "name": "tracker",
        "kind": "SPARQL database and search engine (GLib, SQLite, thread pools)",
        "source": "tracker",
        "version": "3.4.2-1",
        "build": "meson",
        "args": ["-Ddocs=false", "-Dman=false", "-Dstemmer=disabled", "-Dunicode_support=icu",
                 "-Dbash_completion=false", "-Dsystemd_user_services=false",
                 "-Dintrospection=disabled", "-Dtests=false", "-Dtest_utils=false",
                 "-Dsoup=soup3"],
        # (-Dtests=true needs python3-gi at configure time, test_utils needs introspection.)
    },
    {
        "name": "multipath-tools",
        "kind": "device-mapper multipath daemon and tools (liburcu read-side sections, pthreads)",
        "source": "multipath-tools",
        "version": "0.9.4-3+deb12u2",
        "build": "autotools",
        # Plain Makefiles, no configure: create-config.mk probes $(CC) (recordcc.py accepts
        # every option) and make runs in the tree.
        "in_tree": True,
        "args": [],
    },
    {
        "name": "flatpak",
        "kind": "application sandboxing and distribution (GLib; GHashTableIter loops, OSTree)",
        "source": "flatpak",
        "version": "1.14.10-1~deb12u2",
        "build": "autotools",
        "args": ["--disable-documentation", "--disable-docbook-docs", "--disable-gtk-doc",
                 "--disable-introspection", "--disable-selinux-module", "--without-systemd",
                 "--disable-installed-tests", "--enable-always-build-tests"],
    },
    {
        "name": "ostree",
        "kind": "versioned file system trees (GLib; GHashTableIter loops, pull threads)",
        "source": "ostree",
        "version": "2022.7-2+deb12u1",
        "build": "autotools",
        "args": ["--disable-gtk-doc", "--disable-man", "--disable-introspection",
                 "--without-selinux", "--without-avahi", "--without-libsystemd",
                 "--with-curl", "--without-soup", "--with-ed25519-libsodium=no", "--without-gpgme",
                 "--with-crypto=openssl", "--enable-always-build-tests"],
    },
    {
        "name": "libvirt",
        "kind": "virtualization daemon and drivers (GLib; GHashTable behind virHash, worker threads)",
        "source": "libvirt",
        "version": "9.0.0-4+deb12u2",
        "build": "meson",
        # The QEMU, LXC, network, nwfilter (DHCP snooping needs libpcap), storage and remote
        # drivers and the daemons; the drivers for other hypervisors and the tests are off
        # (their build dependencies, time).
        "args": ["-Ddocs=disabled", "-Dtests=disabled", "-Dnls=disabled",
                 "-Ddriver_libxl=disabled", "-Ddriver_vbox=disabled", "-Ddriver_esx=disabled",
                 "-Ddriver_hyperv=disabled", "-Ddriver_vmware=disabled",
                 "-Ddriver_openvz=disabled", "-Ddriver_vz=disabled", "-Ddriver_bhyve=disabled",
                 "-Ddriver_ch=disabled", "-Dstorage_rbd=disabled", "-Dstorage_gluster=disabled",
                 "-Dglusterfs=disabled", "-Dwireshark_dissector=disabled",
                 "-Dsanlock=disabled", "-Dnss=disabled", "-Ddtrace=disabled",
                 "-Dapparmor=disabled", "-Dsecdriver_apparmor=disabled",
                 "-Dselinux=disabled", "-Dsecdriver_selinux=disabled",
                 "-Dsystem=true", "-Dexpensive_tests=disabled", "-Dno_git=true"],
    },
    {
        "name": "udisks2",
        "kind": "storage management daemon (GLib, GDBus; threaded jobs, udev thread)",
        "source": "udisks2",
        "version": "2.9.4-4+deb12u2",
        "build": "autotools",
        # The daemon, client and tools; the LVM2, iSCSI, BTRFS, ZRAM, LSM, Bcache and VDO
        # modules are off (their libblockdev plugins and services).
        "args": ["--disable-gtk-doc", "--disable-man", "--disable-introspection",
                 "--disable-lvm2", "--disable-lvmcache", "--disable-iscsi",
                 "--disable-btrfs", "--disable-zram", "--disable-lsm", "--disable-bcache",
                 "--disable-vdo", "--disable-nls"],
    },
    {
        "name": "dconf",
        "kind": "configuration system (GVariant databases, GDBus service; loops over changesets)",
        "source": "dconf",
        "version": "0.40.0-4",
        "build": "meson",
        "args": ["-Dbash_completion=false", "-Dman=false", "-Dvapi=false", "-Dgtk_doc=false"],
    },
    {
        "name": "connman",
        "kind": "network connection manager (GLib tables of NAT rules, tethering clients, rfkill switches)",
        "source": "connman",
        "version": "1.41-3",
        "build": "autotools",
        "args": [],
    },
    {
        "name": "wireshark",
        "kind": "network protocol analyzer (epan: dissectors, conversation and preference tables in GHashTable)",
        "source": "wireshark",
        "version": "4.0.17-0+deb12u3",
        "build": "cmake",
        # No Qt GUI (wireshark/logray), no Lua: epan, wiretap, wsutil, ui (shared), the CLI
        # tools, sharkd, extcap and the plugins. The custom command that generates epan/ps.c
        # has order-only dependencies on epan's object libraries, so making the database
        # compiles all of epan's dissectors (over an hour on 2 shared cores); round 11 stopped
        # that ninja, built the other generated sources and ran ps.c's one command by hand
        # (`ninja -t commands epan/ps.c | tail -1`).
        "args": ["-DBUILD_wireshark=OFF", "-DBUILD_logray=OFF", "-DENABLE_LUA=OFF",
                 "-DBUILD_androiddump=OFF", "-DBUILD_sshdump=OFF", "-DBUILD_ciscodump=OFF",
                 "-DBUILD_wifidump=OFF", "-DENABLE_KERBEROS=OFF", "-DENABLE_SBC=OFF",
                 "-DENABLE_SPANDSP=OFF", "-DENABLE_BCG729=OFF", "-DENABLE_ILBC=OFF",
                 "-DENABLE_AMRNB=OFF", "-DENABLE_OPUS=OFF", "-DENABLE_WERROR=OFF"],
    },
    {
        "name": "syslog-ng",
        "kind": "log daemon (GLib; GHashTable of templates, parsers, destinations; worker threads)",
        "source": "syslog-ng",
        "version": "3.38.1-5+deb12u1",
        "build": "autotools",
        "autoreconf": True,
        "args": ["--disable-java", "--disable-java-modules", "--disable-python",
                 "--disable-mongodb", "--disable-amqp", "--disable-stomp", "--disable-riemann",
                 "--disable-redis", "--disable-kafka", "--disable-sql", "--disable-geoip2",
                 "--disable-snmp-dest", "--disable-smtp", "--disable-grpc", "--disable-mqtt",
                 "--disable-manpages", "--disable-systemd", "--with-ivykis=system"],
    },
    {
        "name": "goffice",
        "kind": "office library (GTK 3; GHashTable of plot engines, formats, named styles)",
        "source": "goffice",
        "version": "0.10.55-1",
        "build": "autotools",
        "args": ["--disable-introspection", "--disable-gtk-doc", "--without-lasem"],
    },
    {
        "name": "gnumeric",
        "kind": "spreadsheet (GHashTable of names, dependents, styles; foreach-heavy)",
        "source": "gnumeric",
        "version": "1.12.55-1",
        "build": "autotools",
        "args": ["--without-python", "--without-perl", "--without-psiconv",
                 "--without-paradox", "--disable-introspection", "--without-gda",
                 "--without-long-double"],
    },
    {
        "name": "gobject-introspection",
        "kind": "GObject introspection library and compiler (girepository, giscanner, tests)",
        "source": "gobject-introspection",
        "version": "1.74.0-3",
        "build": "meson",
        "args": ["-Dgtk_doc=false", "-Ddoctool=disabled", "-Dcairo=disabled",
                 "-Dbuild_introspection_data=false"],
    },
    {
        "name": "tracker-miners",
        "kind": "file system miner and metadata extractors (GLib; thread pools, GHashTable caches)",
        "source": "tracker-miners",
        "version": "3.4.3-1",
        "build": "meson",
        "args": ["-Dminer_rss=false", "-Dman=false", "-Dfunctional_tests=false",
                 "-Dsystemd_user_services=false", "-Dseccomp=false",
                 "-Dabiword=false", "-Dcue=disabled", "-Diptc=disabled", "-Diso=disabled",
                 "-Dpdf=disabled", "-Draw=disabled", "-Dxps=disabled", "-Dgsf=disabled",
                 "-Dgeneric_media_extractor=none", "-Dbattery_detection=none",
                 "-Dcharset_detection=icu", "-Dxmp=disabled", "-Dexif=disabled"],
    },
    {
        "name": "polkit",
        "kind": "authorization daemon (GObject, GDBus; GHashTable of sessions, agents, temporary authorizations)",
        "source": "policykit-1",
        "version": "122-3",
        "build": "meson",
        "args": ["-Dsession_tracking=libsystemd-login", "-Djs_engine=mozjs", "-Dman=false",
                 "-Dintrospection=false", "-Dgtk_doc=false", "-Dtests=true",
                 "-Dexamples=true"],
    },

    {
        "name": "ofono",
        "kind": "telephony daemon (GLib tables of modems, atoms, SIM files, calls; its own GDBus)",
        "source": "ofono",
        "version": "1.31-3",
        "build": "autotools",
        "args": ["--enable-test", "--enable-tools", "--enable-dundee", "--enable-bluetooth",
                 "--disable-provision", "--disable-upower"],
    },
    {
        "name": "gtk3",
        "kind": "GUI toolkit (GTK 3: GDK X11 backend, widgets, CSS; GHashTable caches and registries)",
        "source": "gtk+3.0",
        "version": "3.24.38-2~deb12u3",
        "build": "meson",
        "args": ["-Dwayland_backend=false", "-Dbroadway_backend=false", "-Dintrospection=false",
                 "-Dgtk_doc=false", "-Dman=false", "-Ddemos=false", "-Dexamples=false",
                 "-Dtests=false", "-Dinstalled_tests=false", "-Dcloudproviders=false",
                 "-Dtracker3=false", "-Dcolord=no", "-Dprint_backends=file,lpr"],
    },
    {
        "name": "gimp",
        "kind": "image editor (GObject core on GEGL; GHashTable of tools, tags, plug-in procedures, previews)",
        "source": "gimp",
        "version": "2.10.34-1+deb12u10",
        "build": "autotools",
        # The recorded make also runs the icon build (gegl converts some 1,200 icons: slow);
        # round 11 stopped the make in icons/ (no C there) and let `make -k` go on.
        "args": ["--disable-python", "--without-webkit", "--without-wmf", "--without-libxpm",
                 "--without-libmng", "--without-openexr", "--without-webp",
                 "--without-libheif", "--without-jpegxl", "--without-openjpeg",
                 "--without-aa", "--without-ghostscript", "--without-print",
                 "--disable-check-update", "--without-libbacktrace", "--without-libunwind",
                 "--disable-gtk-doc", "--disable-vector-icons", "--without-alsa",
                 "--without-gudev", "--without-cairo-pdf", "--without-poppler",
                 "--without-xmc", "--without-appdata-test"],
    },
]

def by_name(names):
    """The projects named (all when names is empty); an unknown name is an error."""
    if not names:
        return list(PROJECTS)
    known = {p["name"]: p for p in PROJECTS}
    missing = [n for n in names if n not in known]
    if missing:
        raise SystemExit("unknown project(s): %s (known: %s)" % (
            ", ".join(missing), ", ".join(sorted(known))))
    return [known[n] for n in names]
