<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>Action</name>
    <message>
        <source>accept on</source>
        <translation>接受连接于</translation>
    </message>
    <message>
        <source>connect to</source>
        <translation>连接</translation>
    </message>
    <message>
        <source>fetch from</source>
        <translation>访问文件服务器</translation>
    </message>
    <message>
        <source>listen on</source>
        <translation>监听</translation>
    </message>
    <message>
        <source>query</source>
        <translation>查询</translation>
    </message>
    <message>
        <source>receive from</source>
        <translation>接收来自</translation>
    </message>
    <message>
        <source>receive on</source>
        <translation>接收数据于</translation>
    </message>
    <message>
        <source>relay to</source>
        <translation>中继到</translation>
    </message>
    <message>
        <source>run the scenario on</source>
        <translation>运行场景于</translation>
    </message>
    <message>
        <source>send to</source>
        <translation>发送到</translation>
    </message>
    <message>
        <source>serve</source>
        <translation>响应客户端</translation>
    </message>
    <message>
        <source>wait for a reply from</source>
        <translation>等待服务器回复</translation>
    </message>
    <message>
        <source>wait for a request from</source>
        <translation>等待客户端请求</translation>
    </message>
    <message>
        <source>wait for the reply from</source>
        <translation>等待服务器回复</translation>
    </message>
</context>
<context>
    <name>AddressEdit</name>
    <message>
        <source>127.0.0.1, ::1, a host name, or host:port</source>
        <translation>127.0.0.1、::1、主机名或“主机:端口”</translation>
    </message>
    <message>
        <source>IPv4, IPv6 (::1 or [::1]:8000) or a host name; a port typed here wins over the port box</source>
        <translation>IPv4、IPv6（::1 或 [::1]:8000）或主机名；在这里输入的端口优先于端口框</translation>
    </message>
    <message>
        <source>TCP/UDP port, 0–65535 (0 = any free port when listening)</source>
        <translation>TCP/UDP 端口，0–65535（监听时 0 = 任意空闲端口）</translation>
    </message>
    <message>
        <source>Port</source>
        <translation>端口</translation>
    </message>
</context>
<context>
    <name>AddressInUse</name>
    <message>
        <source>Another program, or connections of an earlier run still in TIME_WAIT, hold port {port} — stop it, choose another port, or enable SO_REUSEADDR (on Linux the earlier run needs it too).</source>
        <translation>端口 {port} 被另一个程序占用，或被上次运行时仍处于 TIME_WAIT 的连接占用——请停止该程序、换一个端口，或启用 SO_REUSEADDR（在 Linux 上，上次运行也必须启用它）。</translation>
    </message>
    <message>
        <source>cannot listen on {where}: address already in use</source>
        <translation>无法监听 {where}：地址已被占用</translation>
    </message>
</context>
<context>
    <name>AddressNotAvailable</name>
    <message>
        <source>cannot use {where}: address not available</source>
        <translation>无法使用 {where}：地址不可用</translation>
    </message>
    <message>
        <source>{host} is not an address of this machine — bind 127.0.0.1, 0.0.0.0 or ::.</source>
        <translation>{host} 不是本机的地址——请绑定 127.0.0.1、0.0.0.0 或 ::。</translation>
    </message>
</context>
<context>
    <name>BadDestination</name>
    <message>
        <source>Choose an existing folder you can write to.</source>
        <translation>请选择一个已存在且可写入的文件夹。</translation>
    </message>
    <message>
        <source>cannot create a file in {folder}: {detail}</source>
        <translation>无法在 {folder} 中创建文件：{detail}</translation>
    </message>
</context>
<context>
    <name>BufferBudgetExceeded</name>
    <message>
        <source>The clients together hold that much in frames not yet complete and replies not yet read — many large messages at once, or clients holding memory on purpose. Raise the budget only if the server has the memory.</source>
        <translation>所有客户端加起来在服务器中占用了这么多字节：尚未完整的帧和对方尚未读取的回复——可能是同时有许多大消息，也可能是客户端在故意占用内存。只有在服务器内存充足时才提高预算。</translation>
    </message>
    <message>
        <source>closed the client {where}: its {held:,} buffered bytes would exceed the server&apos;s buffer budget of {budget_mib:g} MiB</source>
        <translation>已关闭客户端 {where}：它缓冲的 {held:,} 字节会超出服务器的缓冲预算 {budget_mib:g} MiB</translation>
    </message>
</context>
<context>
    <name>CannotSave</name>
    <message>
        <source>Remove what has that name or choose another folder; nothing was saved.</source>
        <translation>请移除同名的项目或选择其他文件夹；没有保存任何内容。</translation>
    </message>
    <message>
        <source>cannot save &apos;{name}&apos; in {folder}: {detail}</source>
        <translation>无法将“{name}”保存到 {folder}：{detail}</translation>
    </message>
</context>
<context>
    <name>CannotWrite</name>
    <message>
        <source>Free some space or choose another folder; nothing was saved.</source>
        <translation>请释放一些空间或选择其他文件夹；没有保存任何内容。</translation>
    </message>
    <message>
        <source>cannot write the file: {detail}</source>
        <translation>无法写入文件：{detail}</translation>
    </message>
</context>
<context>
    <name>CodePanel</name>
    <message>
        <source>What the current settings do, in standard-library Python</source>
        <translation>用 Python 标准库实现当前设置的效果</translation>
    </message>
    <message>
        <source>Copy</source>
        <translation>复制</translation>
    </message>
</context>
<context>
    <name>ConnectToMe</name>
    <message>
        <source>This machine&apos;s addresses on the network: students connect to one of these</source>
        <translation>本机在网络上的地址：学生连接其中一个</translation>
    </message>
    <message>
        <source>Show &amp;large</source>
        <translation>大字显示(&amp;L)</translation>
    </message>
    <message>
        <source>Show the address and port in very large type for the class</source>
        <translation>用很大的字向全班显示地址和端口</translation>
    </message>
    <message>
        <source>Connect to me</source>
        <translation>连接本机</translation>
    </message>
    <message>
        <source>{0} ({1})</source>
        <translation>{0}（{1}）</translation>
    </message>
    <message>
        <source>port {0}</source>
        <translation>端口 {0}</translation>
    </message>
    <message>
        <source>Reachable from the network</source>
        <translation>可从网络访问</translation>
    </message>
    <message>
        <source>The server listens on {0}: on every network interface of this machine. Other computers on the same network (the students&apos; PCs, but anyone else on it too) can now connect to it. Listen on 127.0.0.1 when only this machine should.</source>
        <translation>服务器监听在 {0}：即本机的所有网络接口。同一网络中的其他计算机（学生的电脑，以及网络中的任何其他人）现在都可以连接它。若只允许本机连接，请监听 127.0.0.1。</translation>
    </message>
    <message>
        <source>The first time a program listens on the network, Windows Firewall asks whether to allow it. In a classroom on a private network, allow it on private networks. On a public network (a café, a hotel, a station) do not allow it. If students cannot connect, the firewall is the usual reason (Windows Security → Firewall → Allow an app; macOS: System Settings → Network → Firewall).</source>
        <translation>程序第一次在网络上监听时，Windows 防火墙会询问是否允许。在教室的专用网络中，请允许“专用网络”。在公用网络（咖啡馆、酒店、车站）中请不要允许。如果学生连不上，通常是防火墙的原因（Windows 安全中心 → 防火墙 → 允许应用通过防火墙；macOS：系统设置 → 网络 → 防火墙）。</translation>
    </message>
</context>
<context>
    <name>ConnectToMeDialog</name>
    <message>
        <source>Connect to me</source>
        <translation>连接本机</translation>
    </message>
    <message>
        <source>{0} ({1})</source>
        <translation>{0}（{1}）</translation>
    </message>
    <message>
        <source>port {0}</source>
        <translation>端口 {0}</translation>
    </message>
    <message>
        <source>Show the Python one-liner</source>
        <translation>显示一行 Python 命令</translation>
    </message>
    <message>
        <source>&amp;Copy address</source>
        <translation>复制地址(&amp;C)</translation>
    </message>
    <message>
        <source>Copy address:port to the clipboard</source>
        <translation>把 地址:端口 复制到剪贴板</translation>
    </message>
    <message>
        <source>&amp;Full screen</source>
        <translation>全屏(&amp;F)</translation>
    </message>
    <message>
        <source>Close</source>
        <translation>关闭</translation>
    </message>
    <message>
        <source>UDP server at</source>
        <translation>UDP 服务器地址</translation>
    </message>
    <message>
        <source>TCP server at</source>
        <translation>TCP 服务器地址</translation>
    </message>
</context>
<context>
    <name>ConnectionRefused</name>
    <message>
        <source>Nothing is listening on {where} — start the server first, or check the port.</source>
        <translation>{where} 上没有程序在监听——请先启动服务器，或检查端口。</translation>
    </message>
    <message>
        <source>{action} {where} failed: connection refused</source>
        <translation>{action} {where} 失败：连接被拒绝</translation>
    </message>
</context>
<context>
    <name>ConnectionReset</name>
    <message>
        <source>The peer closed abruptly (crashed, or closed with unread data) — this is not a clean close.</source>
        <translation>对端突然关闭了连接（程序崩溃，或关闭时还有未读的数据）——这不是正常关闭。</translation>
    </message>
    <message>
        <source>connection with {where} was reset</source>
        <translation>与 {where} 的连接被重置</translation>
    </message>
</context>
<context>
    <name>ConnectionTable</name>
    <message>
        <source>Show all</source>
        <translation>显示全部</translation>
    </message>
    <message>
        <source>Show every connection&apos;s traffic in the log and the hexdump</source>
        <translation>在日志和十六进制视图中显示所有连接的流量</translation>
    </message>
    <message>
        <source>Connections: {0:,} open · {1:,} closed</source>
        <translation>连接：{0:,} 个打开 · {1:,} 个已关闭</translation>
    </message>
    <message>
        <source> · {0:,} older closed rows removed (the table keeps {1:,})</source>
        <translation> · 已移除 {0:,} 行较早关闭的连接（表中最多保留 {1:,} 行）</translation>
    </message>
</context>
<context>
    <name>ConnectionTableModel</name>
    <message>
        <source>#</source>
        <translation>#</translation>
    </message>
    <message>
        <source>Peer</source>
        <translation>对端</translation>
    </message>
    <message>
        <source>Since</source>
        <translation>连接时间</translation>
    </message>
    <message>
        <source>In</source>
        <translation>收到</translation>
    </message>
    <message>
        <source>Out</source>
        <translation>发出</translation>
    </message>
    <message>
        <source>State</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>open</source>
        <translation>打开</translation>
    </message>
    <message>
        <source>half-closed by peer</source>
        <translation>对端已半关闭</translation>
    </message>
    <message>
        <source>reset</source>
        <translation>已重置</translation>
    </message>
    <message>
        <source>closed by peer</source>
        <translation>对端已关闭</translation>
    </message>
    <message>
        <source>closed here</source>
        <translation>本端已关闭</translation>
    </message>
    <message>
        <source>closed on error</source>
        <translation>因错误关闭</translation>
    </message>
    <message>
        <source>forgotten</source>
        <translation>已遗忘</translation>
    </message>
    <message>
        <source>closed</source>
        <translation>已关闭</translation>
    </message>
</context>
<context>
    <name>ExchangeDiagram</name>
    <message>
        <source>offset = ((T2 − T1) + (T3 − T4)) / 2 = (({0:+.3f}) + ({1:+.3f})) / 2 = {2:+.3f} ms</source>
        <translation>时钟偏差 = ((T2 − T1) + (T3 − T4)) / 2 = (({0:+.3f}) + ({1:+.3f})) / 2 = {2:+.3f} ms</translation>
    </message>
    <message>
        <source>delay = (T4 − T1) − (T3 − T2) = {0:.3f} − {1:.3f} = {2:.3f} ms</source>
        <translation>延迟 = (T4 − T1) − (T3 − T2) = {0:.3f} − {1:.3f} = {2:.3f} ms</translation>
    </message>
    <message>
        <source>client</source>
        <translation>客户端</translation>
    </message>
    <message>
        <source>server</source>
        <translation>服务器</translation>
    </message>
    <message>
        <source>Query an SNTP server to see T1–T4</source>
        <translation>查询一个 SNTP 服务器即可看到 T1–T4</translation>
    </message>
</context>
<context>
    <name>FamilyNotSupported</name>
    <message>
        <source>IPv6 (or IPv4) is not available here — try the other address family.</source>
        <translation>本机不支持 IPv6（或 IPv4）——请改用另一种地址族。</translation>
    </message>
    <message>
        <source>{action} {where} failed: address family not supported</source>
        <translation>{action} {where} 失败：不支持该地址族</translation>
    </message>
</context>
<context>
    <name>FetchCancelled</name>
    <message>
        <source>Nothing was saved.</source>
        <translation>没有保存任何内容。</translation>
    </message>
    <message>
        <source>cancelled</source>
        <translation>已取消</translation>
    </message>
</context>
<context>
    <name>FetchPane</name>
    <message>
        <source>Where fetched files are saved</source>
        <translation>获取到的文件的保存位置</translation>
    </message>
    <message>
        <source>auto-detect</source>
        <translation>自动检测</translation>
    </message>
    <message>
        <source>Byte order of the 4-byte header length: &apos;!I&apos; (network order, what we teach) or &apos;&lt;i&apos; (the course&apos;s struct.pack(&apos;i&apos;))</source>
        <translation>4 字节报头长度的字节序：&apos;!I&apos;（网络字节序，本课程推荐）或 &apos;&lt;i&apos;（课程代码中的 struct.pack(&apos;i&apos;)）</translation>
    </message>
    <message>
        <source>Overwrite existing files</source>
        <translation>覆盖已有文件</translation>
    </message>
    <message>
        <source>&amp;List files</source>
        <translation>列出文件(&amp;L)</translation>
    </message>
    <message>
        <source>Double-click a file to fetch it</source>
        <translation>双击文件即可获取</translation>
    </message>
    <message>
        <source>file name, e.g. hello (finds hello.png)</source>
        <translation>文件名，如 hello（可找到 hello.png）</translation>
    </message>
    <message>
        <source>F&amp;etch</source>
        <translation>获取(&amp;E)</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>The decoded JSON header appears here</source>
        <translation>解码后的 JSON 报头显示在这里</translation>
    </message>
    <message>
        <source>List the server&apos;s files, or type a name and press Fetch</source>
        <translation>列出服务器上的文件，或输入文件名后按“获取”</translation>
    </message>
    <message>
        <source>Server</source>
        <translation>服务器</translation>
    </message>
    <message>
        <source>Save in</source>
        <translation>保存到</translation>
    </message>
    <message>
        <source>Save fetched files in</source>
        <translation>选择获取文件的保存位置</translation>
    </message>
    <message>
        <source>Length</source>
        <translation>长度</translation>
    </message>
    <message>
        <source>Key</source>
        <translation>密钥</translation>
    </message>
    <message>
        <source>&apos;{0}&apos; is not a folder: choose where to save</source>
        <translation>“{0}”不是文件夹：请选择保存位置</translation>
    </message>
    <message>
        <source>Asking for the file list…</source>
        <translation>正在请求文件列表…</translation>
    </message>
    <message>
        <source>Type or choose a file name first</source>
        <translation>请先输入或选择文件名</translation>
    </message>
    <message>
        <source>Fetching &apos;{0}&apos;…</source>
        <translation>正在获取“{0}”…</translation>
    </message>
    <message>
        <source>{0} file(s) on the server</source>
        <translation>服务器上有 {0} 个文件</translation>
    </message>
    <message>
        <source>{0:,} of {1:,} bytes · {2:.0f} % · {3} · {4:.1f} s left</source>
        <translation>{0:,} / {1:,} 字节 · {2:.0f} % · {3} · 剩余 {4:.1f} 秒</translation>
    </message>
    <message>
        <source>md5 verified ✓ {0} — saved {1} ({2:,} bytes, {3}); header length was &apos;{4}&apos;</source>
        <translation>md5 校验通过 ✓ {0}——已保存 {1}（{2:,} 字节，{3}）；报头长度格式为 &apos;{4}&apos;</translation>
    </message>
    <message>
        <source>saved {0} ({1:,} bytes) — the header had no md5, so it was not verified</source>
        <translation>已保存 {0}（{1:,} 字节）——报头中没有 md5，因此未校验</translation>
    </message>
    <message>
        <source>The server calls it &apos;{0}&apos;: saved under the name you asked for.</source>
        <translation>服务器称它为“{0}”：已按你请求的名字保存。</translation>
    </message>
    <message>
        <source>Done</source>
        <translation>完成</translation>
    </message>
    <message>
        <source>Not saved: nothing was written to the destination folder.</source>
        <translation>未保存：没有向目标文件夹写入任何内容。</translation>
    </message>
</context>
<context>
    <name>FetchRefused</name>
    <message>
        <source>Check the name against the server&apos;s file list.</source>
        <translation>请对照服务器的文件列表检查文件名。</translation>
    </message>
    <message>
        <source>the server refused &apos;{name}&apos;: {reason}</source>
        <translation>服务器拒绝了“{name}”：{reason}</translation>
    </message>
</context>
<context>
    <name>FetchStatus</name>
    <message>
        <source>the server is hashing &apos;{name}&apos;: {percent:.0f} % of {size:,} bytes</source>
        <translation>服务器正在计算“{name}”的 md5：{size:,} 字节已完成 {percent:.0f} %</translation>
    </message>
    <message>
        <source>waiting for the header of &apos;{name}&apos;: the server sent its length (in the course&apos;s mode it says no more while it hashes a large file)</source>
        <translation>正在等待“{name}”的报头：服务器已发来报头长度（课程模式的服务器在计算大文件的 md5 时不再发送其他内容）</translation>
    </message>
</context>
<context>
    <name>FetchTooSlow</name>
    <message>
        <source>fetching &apos;{name}&apos; from {where} took longer than its deadline of {deadline:g} s ({received:,} bytes received)</source>
        <translation>从 {where} 获取“{name}”超过了 {deadline:g} 秒的总时限（已收到 {received:,} 字节）</translation>
    </message>
    <message>
        <source>{where} sends too slowly to finish in time (or a byte at a time on purpose) — try again, or allow a longer deadline (--deadline S on the command line).</source>
        <translation>{where} 发送太慢，无法按时完成（或故意每次只发一个字节）— 请重试，或放宽时限（命令行中用 --deadline S）。</translation>
    </message>
</context>
<context>
    <name>FileAlreadyExists</name>
    <message>
        <source>&apos;{name}&apos; already exists in {folder}</source>
        <translation>{folder} 中已存在“{name}”</translation>
    </message>
    <message>
        <source>Choose another folder, or allow overwriting.</source>
        <translation>请选择其他文件夹，或允许覆盖。</translation>
    </message>
</context>
<context>
    <name>FileAppeared</name>
    <message>
        <source>&apos;{name}&apos; appeared in {folder} during the transfer</source>
        <translation>传输期间 {folder} 中出现了“{name}”</translation>
    </message>
    <message>
        <source>Nothing was overwritten; fetch again into another folder.</source>
        <translation>没有覆盖任何文件；请重新获取到其他文件夹。</translation>
    </message>
</context>
<context>
    <name>FilePage</name>
    <message>
        <source>Browse…</source>
        <translation>浏览…</translation>
    </message>
    <message>
        <source>no key</source>
        <translation>无密钥</translation>
    </message>
    <message>
        <source>Shared key, at least 16 bytes: both sides send a random nonce and prove the key with HMAC-SHA256 over both; each request carries an HMAC too</source>
        <translation>共享密钥，至少 16 字节：双方各发送一个随机数（nonce），并用基于两个随机数的 HMAC-SHA256 证明自己知道密钥；每个请求也附带 HMAC</translation>
    </message>
</context>
<context>
    <name>FileServerPane</name>
    <message>
        <source>The folder to serve: only its regular files can be fetched</source>
        <translation>服务目录：只能获取其中的普通文件</translation>
    </message>
    <message>
        <source>&apos;!I&apos; network order</source>
        <translation>&apos;!I&apos; 网络字节序</translation>
    </message>
    <message>
        <source>&apos;&lt;i&apos; like the course&apos;s struct.pack(&apos;i&apos;)</source>
        <translation>&apos;&lt;i&apos; 同课程中的 struct.pack(&apos;i&apos;)</translation>
    </message>
    <message>
        <source>Serve folder</source>
        <translation>服务目录</translation>
    </message>
    <message>
        <source>Folder to serve</source>
        <translation>选择服务目录</translation>
    </message>
    <message>
        <source>Length</source>
        <translation>长度</translation>
    </message>
    <message>
        <source>Key</source>
        <translation>密钥</translation>
    </message>
</context>
<context>
    <name>FromOwnAddress</name>
    <message>
        <source>A reply would come back to this server and be answered again, forever. A datagram &apos;from&apos; the server itself has a forged source address, or was sent from the server&apos;s own socket.</source>
        <translation>回复会回到本服务器并再次被回答，永不停止。一个“来自”服务器自身的数据报，要么伪造了源地址，要么是从服务器自己的套接字发出的。</translation>
    </message>
    <message>
        <source>did not answer {count:,} datagram(s) from {where}: that is this server&apos;s own address</source>
        <translation>未回答来自 {where} 的 {count:,} 个数据报：那是本服务器自己的地址</translation>
    </message>
</context>
<context>
    <name>FromServicePort</name>
    <message>
        <source>That service would answer the reply, and the two would answer each other forever (a reflection loop, usually started with a forged source address). Allow replies to service ports only when a real client uses one.</source>
        <translation>该服务会回答这个回复，两者将永远互相回答（反射循环，通常由伪造的源地址引发）。只有在真实的客户端使用这类端口时，才允许回复服务端口。</translation>
    </message>
    <message>
        <source>did not answer {count:,} datagram(s) from {where}: port {port} is a service that answers anything (echo 7, daytime 13, chargen 19, time 37, NTP 123)</source>
        <translation>未回答来自 {where} 的 {count:,} 个数据报：端口 {port} 是一个对任何数据都作答的服务（echo 7、daytime 13、chargen 19、time 37、NTP 123）</translation>
    </message>
</context>
<context>
    <name>HexdumpHeader</name>
    <message>
        <source>ASCII</source>
        <translation>ASCII 字符</translation>
    </message>
</context>
<context>
    <name>HexdumpModel</name>
    <message>
        <source>Offset</source>
        <translation>偏移</translation>
    </message>
</context>
<context>
    <name>HexdumpView</name>
    <message>
        <source>byte 0x{value:02x} at offset {pos} · byte {within} of {call} #{row} ({size} B, stream {start}–{end}, {clock}, {peer})</source>
        <translation>字节 0x{value:02x}，偏移 {pos} · {call} #{row} 的第 {within} 个字节（{size} B，流位置 {start}–{end}，{clock}，{peer}）</translation>
    </message>
    <message>
        <source>header</source>
        <translation>报头</translation>
    </message>
    <message>
        <source>payload</source>
        <translation>载荷</translation>
    </message>
    <message>
        <source>delimiter</source>
        <translation>分隔符</translation>
    </message>
    <message>
        <source> · frame #{n} {role} (header {h0}–{h1}, payload {p0}–{p1})</source>
        <translation> · 帧 #{n} {role}（报头 {h0}–{h1}，载荷 {p0}–{p1}）</translation>
    </message>
    <message>
        <source>Copy as hex</source>
        <translation>复制为 hex</translation>
    </message>
    <message>
        <source>Copy as text</source>
        <translation>复制为文本</translation>
    </message>
    <message>
        <source>Copy as Python bytes</source>
        <translation>复制为 Python bytes</translation>
    </message>
    <message>
        <source>bytes {start}–{end}: {name} = {value}</source>
        <translation>字节 {start}–{end}：{name} = {value}</translation>
    </message>
</context>
<context>
    <name>HostNotFound</name>
    <message>
        <source>Check the spelling of &apos;{host}&apos; or type an IP address such as 127.0.0.1.</source>
        <translation>请检查“{host}”的拼写，或输入 IP 地址，如 127.0.0.1。</translation>
    </message>
    <message>
        <source>cannot resolve host name &apos;{host}&apos;</source>
        <translation>无法解析主机名“{host}”</translation>
    </message>
</context>
<context>
    <name>InputError</name>
    <message>
        <source>&apos;[{host}]&apos;: square brackets are only for IPv6 addresses</source>
        <translation>“[{host}]”：方括号只用于 IPv6 地址</translation>
    </message>
    <message>
        <source>&apos;\x&apos; at column {column} must be followed by two hex digits</source>
        <translation>第 {column} 列的“\x”后面必须跟两个十六进制数字</translation>
    </message>
    <message>
        <source>&apos;{char}&apos; at column {column} cannot be encoded in {encoding}</source>
        <translation>第 {column} 列的“{char}”无法用 {encoding} 编码</translation>
    </message>
    <message>
        <source>&apos;{char}&apos; at column {column} is not a hex digit (use 0-9 and a-f)</source>
        <translation>第 {column} 列的“{char}”不是十六进制数字（请用 0-9 和 a-f）</translation>
    </message>
    <message>
        <source>&apos;{host}&apos; is not a valid IPv4 address: {reason}</source>
        <translation>“{host}”不是有效的 IPv4 地址：{reason}</translation>
    </message>
    <message>
        <source>&apos;{host}&apos; is not a valid IPv6 address: {reason}</source>
        <translation>“{host}”不是有效的 IPv6 地址：{reason}</translation>
    </message>
    <message>
        <source>&apos;{prefix}&apos; at column {column} has no hex digits after it</source>
        <translation>第 {column} 列的“{prefix}”后面没有十六进制数字</translation>
    </message>
    <message>
        <source>&apos;{spec}&apos;: write the delimiter in hex, e.g. delim:0d0a</source>
        <translation>“{spec}”：分隔符请用十六进制写，如 delim:0d0a</translation>
    </message>
    <message>
        <source>&apos;{spec}&apos;: write the frame length in bytes, e.g. fixed:16</source>
        <translation>“{spec}”：请写出帧长度（字节），如 fixed:16</translation>
    </message>
    <message>
        <source>&apos;{text}&apos; opens &apos;[&apos; but never closes it: write [::1]:8000</source>
        <translation>“{text}”有“[”却没有闭合：请写成 [::1]:8000</translation>
    </message>
    <message>
        <source>a file name cannot be empty or contain a new line (it ends a request)</source>
        <translation>文件名不能为空，也不能包含换行（换行表示请求结束）</translation>
    </message>
    <message>
        <source>a fixed frame length must be from 1 to {maximum:,} bytes, not {size:,}</source>
        <translation>固定帧长度须为 1 到 {maximum:,} 字节，而不是 {size:,}</translation>
    </message>
    <message>
        <source>a length prefix is 1, 2, 4 or 8 bytes, not {width}</source>
        <translation>长度前缀为 1、2、4 或 8 字节，而不是 {width}</translation>
    </message>
    <message>
        <source>a probe needs at least 1 datagram and an interval of 0 ms or more</source>
        <translation>探测至少需要 1 个数据报，间隔须为 0 毫秒或以上</translation>
    </message>
    <message>
        <source>a scenario needs at least one message</source>
        <translation>一个场景至少需要一条消息</translation>
    </message>
    <message>
        <source>chunks must be a size in bytes (1, 10, ...) or &apos;random&apos;, not &apos;{text}&apos;</source>
        <translation>块大小应为字节数（1、10……）或“random”，而不是“{text}”</translation>
    </message>
    <message>
        <source>client #{conn} is no longer connected</source>
        <translation>客户端 #{conn} 已不再连接</translation>
    </message>
    <message>
        <source>give --message TEXT or --hex HEX (an empty datagram: --message &apos;&apos;)</source>
        <translation>请给出 --message 文本 或 --hex 十六进制（空数据报：--message &apos;&apos;）</translation>
    </message>
    <message>
        <source>host &apos;{host}&apos; contains a space</source>
        <translation>主机“{host}”包含空格</translation>
    </message>
    <message>
        <source>lone backslash at column {column}: write \\ for a backslash</source>
        <translation>第 {column} 列有单独的反斜杠：反斜杠本身请写成 \\</translation>
    </message>
    <message>
        <source>name a file to fetch, or use --list</source>
        <translation>请指定要获取的文件，或使用 --list</translation>
    </message>
    <message>
        <source>no Python equivalent is written for the &apos;{cure}&apos; cure yet</source>
        <translation>尚未为分帧方式“{cure}”编写对应的 Python 代码</translation>
    </message>
    <message>
        <source>no Python equivalent is written for the framing &apos;{framing}&apos; (raw, line, length4)</source>
        <translation>尚未为分帧方式“{framing}”编写对应的 Python 代码（已有：raw、line、length4）</translation>
    </message>
    <message>
        <source>no datagram has come from peer #{conn}</source>
        <translation>还没有收到对端 #{conn} 的数据报</translation>
    </message>
    <message>
        <source>no port given for &apos;{host}&apos;: add &apos;:port&apos; or fill in the port field</source>
        <translation>“{host}”没有给出端口：请加上“:端口”或填写端口框</translation>
    </message>
    <message>
        <source>odd number of hex digits in &apos;{digits}&apos; at column {column}: each byte needs two digits</source>
        <translation>第 {column} 列的“{digits}”中十六进制数字个数为奇数：每个字节需要两个数字</translation>
    </message>
    <message>
        <source>port &apos;{port}&apos; is not a number: type a number from 0 to 65535</source>
        <translation>端口“{port}”不是数字：请输入 0 到 65535 之间的数</translation>
    </message>
    <message>
        <source>port {port} is out of range: ports go from 0 to 65535</source>
        <translation>端口 {port} 超出范围：端口号为 0 到 65535</translation>
    </message>
    <message>
        <source>queries need a count of at least 1, an interval ≥ 0 and a timeout &gt; 0</source>
        <translation>查询次数至少为 1，间隔须 ≥ 0，超时须 &gt; 0</translation>
    </message>
    <message>
        <source>recv() sizes must be at least 1 byte</source>
        <translation>recv() 的大小至少为 1 字节</translation>
    </message>
    <message>
        <source>the delimiter must be at least one byte</source>
        <translation>分隔符至少要有一个字节</translation>
    </message>
    <message>
        <source>the host is empty: type a name or an address such as 127.0.0.1 or ::1</source>
        <translation>主机为空：请输入主机名或地址，如 127.0.0.1 或 ::1</translation>
    </message>
    <message>
        <source>the largest random chunk must be at least 1 byte</source>
        <translation>最大的随机块至少为 1 字节</translation>
    </message>
    <message>
        <source>the port is empty: type a number from 0 to 65535</source>
        <translation>端口为空：请输入 0 到 65535 之间的数</translation>
    </message>
    <message>
        <source>unexpected &apos;{rest}&apos; after &apos;]&apos;: write [::1]:8000</source>
        <translation>“]”后面有意外的“{rest}”：请写成 [::1]:8000</translation>
    </message>
    <message>
        <source>unknown escape &apos;\{escape}&apos; at column {column}: use \n \r \t \0 \xHH or \\</source>
        <translation>第 {column} 列有未知的转义“\{escape}”：请用 \n \r \t \0 \xHH 或 \\</translation>
    </message>
    <message>
        <source>unknown framing &apos;{spec}&apos;: use raw, line, crlf, delim:HEX, fixed:N, length1/2/4/8[le][s] or json</source>
        <translation>未知的分帧方式“{spec}”：请用 raw、line、crlf、delim:HEX、fixed:N、length1/2/4/8[le][s] 或 json</translation>
    </message>
    <message>
        <source>unknown payload mode &apos;{mode}&apos;: use text or hex</source>
        <translation>未知的负载模式“{mode}”：请用 text 或 hex</translation>
    </message>
    <message>
        <source>unknown text encoding &apos;{encoding}&apos;</source>
        <translation>未知的文本编码“{encoding}”</translation>
    </message>
</context>
<context>
    <name>InternalError</name>
    <message>
        <source>This is a bug in Socket Lab; please report it with these details.</source>
        <translation>这是 Socket Lab 的 bug，请连同这些详细信息一起报告。</translation>
    </message>
    <message>
        <source>internal error: {detail}</source>
        <translation>内部错误：{detail}</translation>
    </message>
</context>
<context>
    <name>KeyRefused</name>
    <message>
        <source>Check the shared key.</source>
        <translation>请检查共享密钥。</translation>
    </message>
</context>
<context>
    <name>KeyTooShort</name>
    <message>
        <source>Make a random one: python -c &quot;import secrets; print(secrets.token_hex(16))&quot; &gt; key.txt, and give both sides that file.</source>
        <translation>生成一个随机密钥：python -c &quot;import secrets; print(secrets.token_hex(16))&quot; &gt; key.txt，并让双方使用这个文件。</translation>
    </message>
    <message>
        <source>the shared key has {size} bytes: it needs at least {minimum}</source>
        <translation>共享密钥只有 {size} 字节：至少需要 {minimum} 字节</translation>
    </message>
</context>
<context>
    <name>KissOfDeath</name>
    <message>
        <source>The server told us not to use this reply ({code}): {meaning}.</source>
        <translation>服务器要求我们不要使用这个回复（{code}）：{meaning}。</translation>
    </message>
</context>
<context>
    <name>LaneTimeline</name>
    <message>
        <source>Boxes marked // are drawn shorter than their bytes, so that the small ones can be read; hover a box for its exact offsets</source>
        <translation>标有 // 的方框画得比它的字节数短，好让小方框看得清；把鼠标停在方框上可看确切的偏移</translation>
    </message>
    <message>
        <source>{0:,} bytes</source>
        <translation>{0:,} 字节</translation>
    </message>
    <message>
        <source>// = cut short, not to scale</source>
        <translation>// = 已截短，未按比例</translation>
    </message>
</context>
<context>
    <name>LocalProtocolError</name>
    <message>
        <source>This is a local mistake: change what you send or the framing settings.</source>
        <translation>这是本地的问题：请修改要发送的内容或分帧设置。</translation>
    </message>
</context>
<context>
    <name>LogToolbar</name>
    <message>
        <source>Data as hex</source>
        <translation>数据以十六进制显示</translation>
    </message>
    <message>
        <source>Pause</source>
        <translation>暂停</translation>
    </message>
    <message>
        <source>Freeze what the log and the hexdump show while traffic is still recorded; untick to catch up (Pause key or Ctrl+Shift+Space)</source>
        <translation>冻结日志和十六进制视图的显示，流量仍继续记录；取消勾选即追上最新内容（Pause 键或 Ctrl+Shift+Space）</translation>
    </message>
    <message>
        <source>Auto-scroll</source>
        <translation>自动滚动</translation>
    </message>
    <message>
        <source>Follow new traffic; untick to keep the rows on screen still while traffic comes</source>
        <translation>跟随新流量滚动；取消勾选后，流量到来时屏幕上的行保持不动</translation>
    </message>
    <message>
        <source>Text</source>
        <translation>文本</translation>
    </message>
    <message>
        <source>Hex</source>
        <translation>Hex</translation>
    </message>
    <message>
        <source>Both directions</source>
        <translation>双向</translation>
    </message>
    <message>
        <source>→ Sent</source>
        <translation>→ 发送</translation>
    </message>
    <message>
        <source>← Received</source>
        <translation>← 接收</translation>
    </message>
    <message>
        <source>Show the Data column as text or as hex bytes</source>
        <translation>数据列显示为文本或十六进制字节</translation>
    </message>
    <message>
        <source>Filter</source>
        <translation>筛选</translation>
    </message>
    <message>
        <source>Show only one direction or some peers&apos; traffic (Ctrl+F); close to show all again</source>
        <translation>只显示一个方向或部分对端的流量（Ctrl+F）；关闭后重新显示全部</translation>
    </message>
    <message>
        <source>Show one direction only (the hexdump too)</source>
        <translation>只显示一个方向（十六进制视图也一样）</translation>
    </message>
    <message>
        <source>Filter by peer</source>
        <translation>按对端筛选</translation>
    </message>
    <message>
        <source>Show only the traffic of peers whose address contains this text</source>
        <translation>只显示地址中包含此文本的对端的流量</translation>
    </message>
</context>
<context>
    <name>LoopFull</name>
    <message>
        <source>Windows&apos; select() serves at most 512 sockets in one loop — close idle clients, or run the server on Linux or macOS, which have no such limit.</source>
        <translation>Windows 的 select() 在一个循环中最多处理 512 个套接字——请关闭空闲的客户端，或在没有此限制的 Linux 或 macOS 上运行服务器。</translation>
    </message>
    <message>
        <source>refused the client {where}: this system&apos;s select() watches at most 512 sockets</source>
        <translation>已拒绝客户端 {where}：本系统的 select() 最多监视 512 个套接字</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <source>Socket Lab</source>
        <translation>Socket Lab 套接字实验室</translation>
    </message>
    <message>
        <source>TCP echo</source>
        <translation>TCP 回显</translation>
    </message>
    <message>
        <source>UDP echo</source>
        <translation>UDP 回显</translation>
    </message>
    <message>
        <source>Time</source>
        <translation>时间</translation>
    </message>
    <message>
        <source>File fetch</source>
        <translation>文件获取</translation>
    </message>
    <message>
        <source>Packet sticking 粘包</source>
        <translation>粘包</translation>
    </message>
    <message>
        <source>Relay</source>
        <translation>中继</translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation>文件(&amp;F)</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>退出(&amp;Q)</translation>
    </message>
    <message>
        <source>&amp;View</source>
        <translation>视图(&amp;V)</translation>
    </message>
    <message>
        <source>Zoom &amp;in</source>
        <translation>放大(&amp;I)</translation>
    </message>
    <message>
        <source>Zoom &amp;out</source>
        <translation>缩小(&amp;O)</translation>
    </message>
    <message>
        <source>&amp;Reset zoom</source>
        <translation>重置缩放(&amp;R)</translation>
    </message>
    <message>
        <source>&amp;Full screen</source>
        <translation>全屏(&amp;F)</translation>
    </message>
    <message>
        <source>Python equivalent</source>
        <translation>等效 Python 代码</translation>
    </message>
    <message>
        <source>&amp;High contrast (projector)</source>
        <translation>高对比度（投影仪）(&amp;H)</translation>
    </message>
    <message>
        <source>&amp;Language</source>
        <translation>语言(&amp;L)</translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation>帮助(&amp;H)</translation>
    </message>
    <message>
        <source>&amp;About Socket Lab</source>
        <translation>关于 Socket Lab(&amp;A)</translation>
    </message>
    <message>
        <source>Ready. Start the server below, then connect the client.</source>
        <translation>就绪。先启动下方的服务器，再连接客户端。</translation>
    </message>
    <message>
        <source>Ready. Start the server on the right, then connect the client.</source>
        <translation>就绪。先启动右侧的服务器，再连接客户端。</translation>
    </message>
    <message>
        <source>Follow the &amp;system</source>
        <translation>跟随系统(&amp;S)</translation>
    </message>
    <message>
        <source>Complete the settings first: {0}</source>
        <translation>请先完成设置：{0}</translation>
    </message>
    <message>
        <source>{0}  ↓ {1}  ↑ {2}  {3}</source>
        <translation>{0}  ↓ {1}  ↑ {2}  {3}</translation>
    </message>
    <message>
        <source>About Socket Lab</source>
        <translation>关于 Socket Lab</translation>
    </message>
    <message>
        <source>Socket Lab {0}
See every byte, every send()/recv() chunk and every message boundary.</source>
        <translation>Socket Lab {0}
看清每一个字节、每一次 send()/recv() 的数据块和每一条消息边界。</translation>
    </message>
</context>
<context>
    <name>ManageDialog</name>
    <message>
        <source>Saved messages</source>
        <translation>收藏的消息</translation>
    </message>
    <message>
        <source>Send</source>
        <translation>发送</translation>
    </message>
    <message>
        <source>Put in message box</source>
        <translation>放入消息框</translation>
    </message>
    <message>
        <source>Move up</source>
        <translation>上移</translation>
    </message>
    <message>
        <source>Move down</source>
        <translation>下移</translation>
    </message>
    <message>
        <source>Rename</source>
        <translation>重命名</translation>
    </message>
    <message>
        <source>Delete</source>
        <translation>删除</translation>
    </message>
    <message>
        <source>Import…</source>
        <translation>导入…</translation>
    </message>
    <message>
        <source>Export…</source>
        <translation>导出…</translation>
    </message>
    <message>
        <source>Close</source>
        <translation>关闭</translation>
    </message>
    <message>
        <source>The file stays as it is until you change the list; then it is kept under another name.</source>
        <translation>在你修改列表之前，这个文件保持原样；修改时它会以另一个名字保留下来。</translation>
    </message>
    <message>
        <source>Kept in {0}</source>
        <translation>保存在 {0}</translation>
    </message>
</context>
<context>
    <name>NetError</name>
    <message>
        <source>Check the address and the port; the system&apos;s message says what it refused.</source>
        <translation>请检查地址和端口；系统消息会说明被拒绝的原因。</translation>
    </message>
    <message>
        <source>{action} {where} failed: {detail}</source>
        <translation>{action} {where} 失败：{detail}</translation>
    </message>
</context>
<context>
    <name>NetworkUnreachable</name>
    <message>
        <source>This machine has no route to {host} — check the address and your network connection.</source>
        <translation>本机没有到 {host} 的路由——请检查地址和网络连接。</translation>
    </message>
    <message>
        <source>{action} {where} failed: network unreachable</source>
        <translation>{action} {where} 失败：网络不可达</translation>
    </message>
</context>
<context>
    <name>NoUdpReply</name>
    <message>
        <source>The datagram or its reply was lost, or nothing is listening: plain UDP cannot tell which (a connected UDP socket reports &apos;port unreachable&apos;).</source>
        <translation>数据报或它的回复丢失了，或者没有程序在监听：普通 UDP 无法区分是哪种情况（已连接的 UDP 套接字会报告“端口不可达”）。</translation>
    </message>
    <message>
        <source>no reply from {where} within {timeout:g} s</source>
        <translation>{timeout:g} 秒内没有收到 {where} 的回复</translation>
    </message>
</context>
<context>
    <name>NotEnoughSpace</name>
    <message>
        <source>&apos;{name}&apos; needs {size:,} bytes but {folder} has {free:,} free</source>
        <translation>“{name}”需要 {size:,} 字节，但 {folder} 只有 {free:,} 字节可用</translation>
    </message>
    <message>
        <source>Free some space or choose another folder.</source>
        <translation>请释放一些空间或选择其他文件夹。</translation>
    </message>
</context>
<context>
    <name>OverReplyRate</name>
    <message>
        <source>The peer sends faster than the server answers one peer — a flood, or another server that answers each reply (a reflection loop). Raise the limit if a real client needs more.</source>
        <translation>对端发送的速度超过了服务器对单个对端的回答速度——可能是洪泛，也可能是另一台会回答每个回复的服务器（反射循环）。如果真实的客户端需要更多，请提高限制。</translation>
    </message>
    <message>
        <source>did not answer {count:,} datagram(s) from {where}: over {rate:,g} replies a second (bursts of {burst:,})</source>
        <translation>未回答来自 {where} 的 {count:,} 个数据报：超过每秒 {rate:,g} 个回复（突发上限 {burst:,} 个）</translation>
    </message>
</context>
<context>
    <name>Panes</name>
    <message>
        <source>Clear log</source>
        <translation>清空日志</translation>
    </message>
    <message>
        <source>Forget the traffic shown in this pane</source>
        <translation>清除此窗格中显示的流量</translation>
    </message>
    <message>
        <source>Server</source>
        <translation>服务器</translation>
    </message>
    <message>
        <source>127.0.0.1 = this machine only; 0.0.0.0 = every IPv4 interface; :: = every interface, IPv6 and IPv4</source>
        <translation>127.0.0.1 = 仅本机；0.0.0.0 = 所有 IPv4 网络接口；:: = 所有网络接口，IPv6 和 IPv4</translation>
    </message>
    <message>
        <source>SO_REUSEADDR</source>
        <translation>SO_REUSEADDR</translation>
    </message>
    <message>
        <source>Not used on Windows: there a new listener is never blocked by old connections in TIME_WAIT, and SO_REUSEADDR would let another program take the port. Socket Lab sets SO_EXCLUSIVEADDRUSE instead, so no other program can.</source>
        <translation>Windows 上不使用此选项：在那里，处于 TIME_WAIT 的旧连接从不妨碍新的监听，而 SO_REUSEADDR 会让别的程序抢走这个端口。Socket Lab 改为设置 SO_EXCLUSIVEADDRUSE，使其他程序无法占用它。</translation>
    </message>
    <message>
        <source>Allow listening again at once while old connections are in TIME_WAIT (untick it to see the &apos;address already in use&apos; lesson)</source>
        <translation>旧连接仍处于 TIME_WAIT 时也允许立即重新监听（取消勾选即可体验“地址已被占用”这一课）</translation>
    </message>
    <message>
        <source>S&amp;tart server</source>
        <translation>启动服务器(&amp;T)</translation>
    </message>
    <message>
        <source>Listen on</source>
        <translation>监听地址</translation>
    </message>
    <message>
        <source>Stopped</source>
        <translation>已停止</translation>
    </message>
    <message>
        <source>Listening on {0}</source>
        <translation>正在监听 {0}</translation>
    </message>
    <message>
        <source>S&amp;top server</source>
        <translation>停止服务器(&amp;T)</translation>
    </message>
    <message>
        <source>Echo</source>
        <translation>回显</translation>
    </message>
    <message>
        <source>UPPER case</source>
        <translation>转为大写</translation>
    </message>
    <message>
        <source>Prefix</source>
        <translation>加前缀</translation>
    </message>
    <message>
        <source>Manual reply (chat)</source>
        <translation>手动回复（聊天）</translation>
    </message>
    <message>
        <source>Text put before each reply in Prefix mode</source>
        <translation>“加前缀”模式下加在每条回复前面的文本</translation>
    </message>
    <message>
        <source>Send the message to the peer chosen above or in the table</source>
        <translation>把消息发送给上面或表中选中的对端</translation>
    </message>
    <message>
        <source>Send to &amp;all</source>
        <translation>发送给全部(&amp;A)</translation>
    </message>
    <message>
        <source>Send the message to every connected peer</source>
        <translation>把消息发送给每个已连接的对端</translation>
    </message>
    <message>
        <source>Traffic</source>
        <translation>流量</translation>
    </message>
    <message>
        <source>Connections ({0:,} open)</source>
        <translation>连接（{0:,} 个打开）</translation>
    </message>
    <message>
        <source>Peers seen so far: manual replies go to the chosen one</source>
        <translation>目前出现过的对端：手动回复发给选中的对端</translation>
    </message>
    <message>
        <source>Send &amp;reply</source>
        <translation>发送回复(&amp;R)</translation>
    </message>
    <message>
        <source>Reply</source>
        <translation>回复</translation>
    </message>
    <message>
        <source>Peer</source>
        <translation>对端</translation>
    </message>
    <message>
        <source>No peer to reply to yet.</source>
        <translation>还没有可以回复的对端。</translation>
    </message>
    <message>
        <source>{0:,} peers forgotten: the server keeps the {1:,} it heard from most recently</source>
        <translation>已忘记 {0:,} 个对端：服务器只记住最近收到过数据的 {1:,} 个</translation>
    </message>
    <message>
        <source>Client</source>
        <translation>客户端</translation>
    </message>
</context>
<context>
    <name>PayloadEdit</name>
    <message>
        <source>Message to send (Ctrl+Enter sends)</source>
        <translation>要发送的消息（按 Ctrl+Enter 发送）</translation>
    </message>
    <message>
        <source>Text</source>
        <translation>文本</translation>
    </message>
    <message>
        <source>Hex</source>
        <translation>Hex</translation>
    </message>
    <message>
        <source>Hex accepts 48 65 6c, 48656c, 0x48,0x65 or \x48\x65</source>
        <translation>Hex 可以写成 48 65 6c、48656c、0x48,0x65 或 \x48\x65</translation>
    </message>
    <message>
        <source>Escapes \r \n \xHH</source>
        <translation>转义 \r \n \xHH</translation>
    </message>
    <message numerus="yes">
        <source>%n byte(s)</source>
        <translation>
            <numerusform>%n 字节</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>PermissionDenied</name>
    <message>
        <source>Ports below 1024 need administrator rights — use a port from 1024 to 65535.</source>
        <translation>低于 1024 的端口需要管理员权限——请使用 1024 到 65535 之间的端口。</translation>
    </message>
    <message>
        <source>{action} {where} failed: permission denied</source>
        <translation>{action} {where} 失败：权限不足</translation>
    </message>
</context>
<context>
    <name>PortReserved</name>
    <message>
        <source>Windows keeps some port ranges for itself (Hyper-V, WSL, Docker — &apos;netsh interface ipv4 show excludedportrange protocol=tcp&apos; lists them), or another program holds port {port} exclusively — choose another port.</source>
        <translation>Windows 为自身保留了一些端口范围（Hyper-V、WSL、Docker——可用 &apos;netsh interface ipv4 show excludedportrange protocol=tcp&apos; 列出），或者另一个程序独占了端口 {port}——请换一个端口。</translation>
    </message>
    <message>
        <source>{action} {where} failed: port {port} is reserved or held exclusively</source>
        <translation>{action} {where} 失败：端口 {port} 已被系统保留或被独占</translation>
    </message>
</context>
<context>
    <name>PortUnreachable</name>
    <message>
        <source>Nothing is listening on that UDP port ({where}) — start the UDP server first, or check the port.</source>
        <translation>该 UDP 端口（{where}）上没有程序在监听——请先启动 UDP 服务器，或检查端口。</translation>
    </message>
    <message>
        <source>{where} answered with ICMP &apos;port unreachable&apos;</source>
        <translation>{where} 返回了 ICMP“端口不可达”</translation>
    </message>
</context>
<context>
    <name>RelayPane</name>
    <message>
        <source>Re-chunking relay</source>
        <translation>重新分块的中继</translation>
    </message>
    <message>
        <source>The real server (host:port), e.g. the TCP echo tab&apos;s server</source>
        <translation>真正的服务器（主机:端口），如“TCP 回显”页中的服务器</translation>
    </message>
    <message>
        <source>Bytes per send() on the way through, or &apos;random&apos;</source>
        <translation>转发时每次 send() 的字节数，或填 &apos;random&apos;</translation>
    </message>
    <message>
        <source>Random sizes come from this seed, so a run can be replayed</source>
        <translation>随机大小由这个种子生成，因此同一次运行可以重现</translation>
    </message>
    <message>
        <source> ms</source>
        <translation> ms</translation>
    </message>
    <message>
        <source>Pause between chunks</source>
        <translation>块与块之间的停顿</translation>
    </message>
    <message>
        <source>Relay to</source>
        <translation>中继到</translation>
    </message>
    <message>
        <source>Chunks</source>
        <translation>分块</translation>
    </message>
    <message>
        <source>seed</source>
        <translation>种子</translation>
    </message>
    <message>
        <source>delay</source>
        <translation>延迟</translation>
    </message>
    <message>
        <source>Point a client (e.g. the TCP echo tab&apos;s) at this relay&apos;s port: it receives the server&apos;s bytes re-chunked.</source>
        <translation>让客户端（如“TCP 回显”页中的客户端）连接此中继的端口：它收到的服务器数据会被重新分块。</translation>
    </message>
</context>
<context>
    <name>RemoteProtocolError</name>
    <message>
        <source>The peer does not speak this framing/protocol, or its data is corrupt.</source>
        <translation>对端使用的不是这种分帧方式/协议，或者它的数据已损坏。</translation>
    </message>
</context>
<context>
    <name>RepeatControl</name>
    <message>
        <source> ms</source>
        <translation> ms</translation>
    </message>
    <message>
        <source>until stopped</source>
        <translation>直到停止</translation>
    </message>
    <message>
        <source>Repeat</source>
        <translation>重复</translation>
    </message>
    <message>
        <source>Send the message every interval; {n} in it counts 1, 2, 3…</source>
        <translation>每隔一段时间发送一次消息；消息中的 {n} 会依次变为 1、2、3…</translation>
    </message>
    <message>
        <source>Repeat every</source>
        <translation>每隔</translation>
    </message>
    <message>
        <source>times</source>
        <translation>次数</translation>
    </message>
    <message>
        <source>Stop repeat</source>
        <translation>停止重复</translation>
    </message>
    <message>
        <source>sent {0}</source>
        <translation>已发送 {0}</translation>
    </message>
</context>
<context>
    <name>SavedMessages</name>
    <message>
        <source>{0} was written by a newer version of Socket Lab (file version {1}).</source>
        <translation>{0} 由更新版本的 Socket Lab 写入（文件版本 {1}）。</translation>
    </message>
    <message>
        <source>{0} cannot be opened: {1}.</source>
        <translation>无法打开 {0}：{1}。</translation>
    </message>
    <message>
        <source>{0} is not a saved-messages file Socket Lab can read ({1}).</source>
        <translation>{0} 不是 Socket Lab 能读取的收藏的消息文件（{1}）。</translation>
    </message>
    <message>
        <source>hex</source>
        <translation>十六进制</translation>
    </message>
    <message>
        <source>, escapes</source>
        <translation>，转义</translation>
    </message>
    <message>
        <source>Saved for {0}</source>
        <translation>保存时的目标：{0}</translation>
    </message>
</context>
<context>
    <name>SavedMessagesButton</name>
    <message>
        <source>Saved</source>
        <translation>收藏</translation>
    </message>
    <message>
        <source>Send a saved message</source>
        <translation>发送收藏的消息</translation>
    </message>
    <message>
        <source>“{0}” was saved for {1}; this pane sends to {2}.</source>
        <translation>“{0}”保存时的目标是 {1}；此面板当前发送到 {2}。</translation>
    </message>
    <message>
        <source>no valid address</source>
        <translation>无有效地址</translation>
    </message>
    <message>
        <source>Send to {0}</source>
        <translation>发送到 {0}</translation>
    </message>
    <message>
        <source>To send it to {0}, close the socket or disconnect first.</source>
        <translation>要发送到 {0}，请先关闭套接字或断开连接。</translation>
    </message>
    <message>
        <source>Cannot write {0}: {1}</source>
        <translation>无法写入 {0}：{1}</translation>
    </message>
    <message>
        <source>Save message</source>
        <translation>保存消息</translation>
    </message>
    <message>
        <source>Name of the message:</source>
        <translation>消息名称：</translation>
    </message>
    <message>
        <source>Saved messages</source>
        <translation>收藏的消息</translation>
    </message>
    <message>
        <source>The file that could not be read was kept as {0}.</source>
        <translation>无法读取的原文件已另存为 {0}。</translation>
    </message>
    <message>
        <source>Import saved messages</source>
        <translation>导入收藏的消息</translation>
    </message>
    <message>
        <source>Saved messages (*.json);;All files (*)</source>
        <translation>收藏的消息 (*.json);;所有文件 (*)</translation>
    </message>
    <message>
        <source>Nothing was imported; your list is unchanged.</source>
        <translation>没有导入任何内容，你的列表保持不变。</translation>
    </message>
    <message numerus="yes">
        <source>%n message(s) imported.</source>
        <translation>
            <numerusform>已导入 %n 条消息。</numerusform>
        </translation>
    </message>
    <message>
        <source>Export saved messages</source>
        <translation>导出收藏的消息</translation>
    </message>
    <message>
        <source>Saved messages (*.json)</source>
        <translation>收藏的消息 (*.json)</translation>
    </message>
    <message>
        <source>⚠ The saved messages file could not be read</source>
        <translation>⚠ 无法读取收藏的消息文件</translation>
    </message>
    <message>
        <source>Save current message…</source>
        <translation>保存当前消息…</translation>
    </message>
    <message>
        <source>Save with destination {0}…</source>
        <translation>连同目标 {0} 一起保存…</translation>
    </message>
    <message>
        <source>Manage saved messages…</source>
        <translation>管理收藏的消息…</translation>
    </message>
    <message>
        <source>Import…</source>
        <translation>导入…</translation>
    </message>
    <message>
        <source>Export…</source>
        <translation>导出…</translation>
    </message>
    <message>
        <source>Saved messages: save this message, send one with a click or Ctrl+1…Ctrl+9.
Up/Down in the message box recall what you sent.
Kept in {0}</source>
        <translation>收藏的消息：保存这条消息，单击或按 Ctrl+1…Ctrl+9 发送。
在消息框中按 上/下 方向键调出发送过的消息。
保存在 {0}</translation>
    </message>
</context>
<context>
    <name>ScenarioPane</name>
    <message>
        <source>Scenario</source>
        <translation>场景</translation>
    </message>
    <message>
        <source>(custom)</source>
        <translation>（自定义）</translation>
    </message>
    <message>
        <source>One message per line; escapes \n \r \t \0 \xHH work</source>
        <translation>每行一条消息；可以使用转义 \n \r \t \0 \xHH</translation>
    </message>
    <message>
        <source> B</source>
        <translation> B</translation>
    </message>
    <message>
        <source>Generate</source>
        <translation>生成</translation>
    </message>
    <message>
        <source>Variable-length output</source>
        <translation>变长输出</translation>
    </message>
    <message>
        <source>Replies of very different lengths, like the course&apos;s remote-command server&apos;s (no command is ever run)</source>
        <translation>长度相差很大的回复，就像课程中远程执行命令的服务器那样（不会真的执行任何命令）</translation>
    </message>
    <message>
        <source>a send() per message</source>
        <translation>每条消息一次 send()</translation>
    </message>
    <message>
        <source>all in one sendall()</source>
        <translation>全部放进一次 sendall()</translation>
    </message>
    <message>
        <source> ms</source>
        <translation> ms</translation>
    </message>
    <message>
        <source>Pause between the sender&apos;s messages</source>
        <translation>发送方每两条消息之间的停顿</translation>
    </message>
    <message>
        <source>TCP_NODELAY</source>
        <translation>TCP_NODELAY</translation>
    </message>
    <message>
        <source>none: raw bytes</source>
        <translation>无：原始字节</translation>
    </message>
    <message>
        <source>length prefix struct.pack(&apos;!I&apos;, n)</source>
        <translation>长度前缀 struct.pack(&apos;!I&apos;, n)</translation>
    </message>
    <message>
        <source>delimiter \n</source>
        <translation>分隔符 \n</translation>
    </message>
    <message>
        <source>JSON header + body</source>
        <translation>JSON 报头 + 正文</translation>
    </message>
    <message>
        <source>announce length, wait for recv_ready</source>
        <translation>先告知长度，等待 recv_ready</translation>
    </message>
    <message>
        <source>The receiver sleeps this long before its first recv()</source>
        <translation>接收方在第一次 recv() 之前休眠的时长</translation>
    </message>
    <message>
        <source>e.g. 2, 10 (then recv size)</source>
        <translation>例如 2, 10（之后按 recv 大小）</translation>
    </message>
    <message>
        <source>until all arrived</source>
        <translation>直到全部到达</translation>
    </message>
    <message>
        <source>&amp;Run</source>
        <translation>运行(&amp;R)</translation>
    </message>
    <message>
        <source>Run the scenario (Ctrl+R)</source>
        <translation>运行场景（Ctrl+R）</translation>
    </message>
    <message>
        <source>S&amp;tep</source>
        <translation>单步(&amp;T)</translation>
    </message>
    <message>
        <source>Step mode: one recv() per click (Ctrl+T); shows the bytes waiting</source>
        <translation>单步模式：每点一次执行一次 recv()（Ctrl+T）；显示正在等待的字节</translation>
    </message>
    <message>
        <source>Stop</source>
        <translation>停止</translation>
    </message>
    <message>
        <source>Choose a preset and press Run</source>
        <translation>选择一个预设，然后按“运行”</translation>
    </message>
    <message>
        <source>Preset</source>
        <translation>预设</translation>
    </message>
    <message>
        <source>Messages</source>
        <translation>消息</translation>
    </message>
    <message>
        <source>gap</source>
        <translation>间隔</translation>
    </message>
    <message>
        <source>Sender</source>
        <translation>发送方</translation>
    </message>
    <message>
        <source>Framing</source>
        <translation>分帧</translation>
    </message>
    <message>
        <source>wait</source>
        <translation>等待</translation>
    </message>
    <message>
        <source>Receiver</source>
        <translation>接收方</translation>
    </message>
    <message>
        <source>stop after</source>
        <translation>recv 次数上限</translation>
    </message>
    <message>
        <source>{0} (edited)</source>
        <translation>{0}（已修改）</translation>
    </message>
    <message>
        <source>recv sizes must be whole numbers separated by commas</source>
        <translation>recv 大小必须是用逗号分隔的整数</translation>
    </message>
    <message>
        <source>Started again. Step mode: press Step for each recv()</source>
        <translation>已重新开始。单步模式：每次 recv() 按一次“单步”</translation>
    </message>
    <message>
        <source>Running…</source>
        <translation>正在运行…</translation>
    </message>
    <message>
        <source>Step mode: press Step for each recv()</source>
        <translation>单步模式：每次 recv() 按一次“单步”</translation>
    </message>
    <message>
        <source>the scenario&apos;s receiver stops here: press Step to go on calling recv(), one per click, until every byte sent is read</source>
        <translation>场景的接收方到此停止：继续按“单步”调用 recv()，每点一次调用一次，直到读完发送的每个字节</translation>
    </message>
    <message>
        <source>Press Step to start the scenario again</source>
        <translation>按“单步”重新开始场景</translation>
    </message>
    <message>
        <source>Drained: {0:,} bytes read in {1} recv() calls, nothing is left to read. Press Step to start the scenario again</source>
        <translation>已读空：调用 recv() {1} 次读取了 {0:,} 字节，没有剩余可读的数据。按“单步”重新开始场景</translation>
    </message>
    <message>
        <source>Draining: recv() #{0} returned {1:,} bytes · {2} bytes still waiting in the receive buffer</source>
        <translation>正在读空：第 {0} 次 recv() 返回 {1:,} 字节 · 接收缓冲区中还有 {2} 字节在等待</translation>
    </message>
    <message>
        <source>{0} recv() call(s) so far, {1:,} bytes read · {2} bytes waiting in the receive buffer</source>
        <translation>已调用 recv() {0} 次，读取了 {1:,} 字节 · 接收缓冲区中有 {2} 字节在等待</translation>
    </message>
    <message>
        <source>receiver</source>
        <translation>接收端</translation>
    </message>
    <message>
        <source>{0:,} bytes were left unread in the receive buffer</source>
        <translation>接收缓冲区中还有 {0:,} 字节未读</translation>
    </message>
    <message>
        <source>announce-and-wait costs one extra round trip: {0:.3f} ms</source>
        <translation>先告知再等待，多花了一个往返时间：{0:.3f} ms</translation>
    </message>
    <message>
        <source>{0} #{1}: offset {2:,}–{3:,}, {4:,} bytes at {5:.3f} ms{6}</source>
        <translation>{0} #{1}：偏移 {2:,}–{3:,}，{4:,} 字节，时间 {5:.3f} ms{6}</translation>
    </message>
    <message>
        <source> ({0:,} bytes were waiting)</source>
        <translation>（当时有 {0:,} 字节在等待）</translation>
    </message>
    <message>
        <source>frame #{0}: header {1}–{2}, payload {3}–{4} ({5:,} bytes)</source>
        <translation>帧 #{0}：报头 {1}–{2}，载荷 {3}–{4}（{5:,} 字节）</translation>
    </message>
    <message>
        <source>send()</source>
        <translation>send()</translation>
    </message>
    <message>
        <source>recv()</source>
        <translation>recv()</translation>
    </message>
    <message>
        <source>frames</source>
        <translation>帧</translation>
    </message>
</context>
<context>
    <name>ServerNotProven</name>
    <message>
        <source>Nothing was requested. Check the address, and that both sides use the same key file.</source>
        <translation>未发送任何请求。请检查地址，并确认双方使用同一个密钥文件。</translation>
    </message>
    <message>
        <source>the server {host}:{port} could not prove it knows the key — it may be an impostor relaying your answers</source>
        <translation>服务器 {host}:{port} 无法证明它知道密钥——它可能是在转发你的应答的冒充者</translation>
    </message>
</context>
<context>
    <name>ServerStillHashing</name>
    <message>
        <source>{where} sent the header&apos;s length, then is still hashing a large file (the md5 comes before the body) — raise the timeout and fetch it again.</source>
        <translation>{where} 已发来头部长度，但仍在计算一个大文件的 md5（md5 在文件内容之前发送）——请调大超时后重新获取。</translation>
    </message>
</context>
<context>
    <name>ServerUnsynchronised</name>
    <message>
        <source>The server&apos;s clock is not synchronised (stratum 0, leap indicator {leap}): do not trust its time — wait until it has synchronised, or ask another server.</source>
        <translation>服务器的时钟尚未同步（stratum 层级为 0，闰秒指示为 {leap}）：不要相信它的时间——请等它完成同步，或换一台服务器查询。</translation>
    </message>
</context>
<context>
    <name>TcpClientPane</name>
    <message>
        <source> s</source>
        <translation> 秒</translation>
    </message>
    <message>
        <source>TCP_NODELAY</source>
        <translation>TCP_NODELAY</translation>
    </message>
    <message>
        <source>Turn off Nagle&apos;s algorithm: small sends go out at once</source>
        <translation>关闭 Nagle 算法：小数据立即发出</translation>
    </message>
    <message>
        <source>&amp;Connect</source>
        <translation>连接(&amp;C)</translation>
    </message>
    <message>
        <source>shutdown(SHUT_WR): send FIN, keep receiving until the server closes (its recv() returns b&quot;&quot;)</source>
        <translation>shutdown(SHUT_WR)：发送 FIN，继续接收，直到服务器关闭连接（此时 recv() 返回 b&quot;&quot;）</translation>
    </message>
    <message>
        <source>&amp;Send</source>
        <translation>发送(&amp;S)</translation>
    </message>
    <message>
        <source>Send the message (Ctrl+Enter in the message box)</source>
        <translation>发送消息（在消息框中按 Ctrl+Enter）</translation>
    </message>
    <message>
        <source>Not connected</source>
        <translation>未连接</translation>
    </message>
    <message>
        <source>Server</source>
        <translation>服务器</translation>
    </message>
    <message>
        <source>Framing</source>
        <translation>分帧</translation>
    </message>
    <message>
        <source>Timeout</source>
        <translation>超时</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>Connecting to {0}…</source>
        <translation>正在连接 {0}…</translation>
    </message>
    <message>
        <source>Connected: {0} ⇄ {1}</source>
        <translation>已连接：{0} ⇄ {1}</translation>
    </message>
    <message>
        <source>Replies: {0}</source>
        <translation>回复：{0}</translation>
    </message>
    <message>
        <source>{0} unanswered after {1:g} s</source>
        <translation>{0} 条在 {1:g} 秒内无回复</translation>
    </message>
    <message>
        <source>last {0:.3f} ms · min {1:.3f} / median of the last {4:,} {2:.3f} / max {3:.3f} ms</source>
        <translation>最近 {0:.3f} ms · 最小 {1:.3f} / 最近 {4:,} 次的中位数 {2:.3f} / 最大 {3:.3f} ms</translation>
    </message>
    <message>
        <source>last {0:.3f} ms · min {1:.3f} / median {2:.3f} / max {3:.3f} ms</source>
        <translation>最近 {0:.3f} ms · 最小 {1:.3f} / 中位数 {2:.3f} / 最大 {3:.3f} ms</translation>
    </message>
    <message>
        <source>Write side shut down (FIN sent): waiting for the server to close…</source>
        <translation>写方向已关闭（已发送 FIN）：等待服务器关闭连接…</translation>
    </message>
    <message>
        <source>Connect timeout, and how long a message waits for its reply before it counts as unanswered</source>
        <translation>连接超时，也是一条消息等待回复的时长，超过即算作无回复</translation>
    </message>
    <message>
        <source>Half cl&amp;ose</source>
        <translation>半关闭(&amp;O)</translation>
    </message>
    <message>
        <source>The server closed the connection (recv() returned b&quot;&quot;).</source>
        <translation>服务器关闭了连接（recv() 返回了 b&quot;&quot;）。</translation>
    </message>
    <message>
        <source>Disconnected.</source>
        <translation>已断开。</translation>
    </message>
    <message>
        <source>Dis&amp;connect</source>
        <translation>断开(&amp;C)</translation>
    </message>
</context>
<context>
    <name>TcpEchoPage</name>
    <message>
        <source>How messages are delimited on the byte stream: raw (none), line (\n), crlf, length1/2/4/8[le][s] (length prefix), json (4-byte length + JSON header + body), fixed:N, delim:HEX</source>
        <translation>消息在字节流中如何分界：raw（无）、line（\n）、crlf、length1/2/4/8[le][s]（长度前缀）、json（4 字节长度 + JSON 报头 + 正文）、fixed:N、delim:HEX</translation>
    </message>
</context>
<context>
    <name>TcpServerPane</name>
    <message>
        <source>With framing, the server replies once per decoded message</source>
        <translation>启用分帧后，服务器对每条解码出的消息回复一次</translation>
    </message>
    <message>
        <source>Framing</source>
        <translation>分帧</translation>
    </message>
    <message>
        <source>Disconnect client</source>
        <translation>断开客户端</translation>
    </message>
</context>
<context>
    <name>TimeClientPane</name>
    <message>
        <source>How many queries</source>
        <translation>要发送的查询数量</translation>
    </message>
    <message>
        <source> s</source>
        <translation> 秒</translation>
    </message>
    <message>
        <source>Time between queries</source>
        <translation>两次查询之间的间隔</translation>
    </message>
    <message>
        <source>How long to wait for each reply</source>
        <translation>每次等待回复的时长</translation>
    </message>
    <message>
        <source>&amp;Query</source>
        <translation>查询(&amp;Q)</translation>
    </message>
    <message>
        <source>Hover a byte of the SNTP reply to see its field</source>
        <translation>将鼠标悬停在 SNTP 回复的字节上，可查看它所属的字段</translation>
    </message>
    <message>
        <source>offset (red) and delay (blue), ms, by query</source>
        <translation>每次查询的时钟偏差（红）和延迟（蓝），单位 ms</translation>
    </message>
    <message>
        <source>Choose a protocol and press Query</source>
        <translation>选择协议，然后按“查询”</translation>
    </message>
    <message>
        <source>Protocol</source>
        <translation>协议</translation>
    </message>
    <message>
        <source>Server</source>
        <translation>服务器</translation>
    </message>
    <message>
        <source>Queries</source>
        <translation>查询次数</translation>
    </message>
    <message>
        <source>every</source>
        <translation>间隔</translation>
    </message>
    <message>
        <source>Timeout</source>
        <translation>超时</translation>
    </message>
    <message>
        <source>Server time</source>
        <translation>服务器时间</translation>
    </message>
    <message>
        <source>Local time</source>
        <translation>本地时间</translation>
    </message>
    <message>
        <source>Offset</source>
        <translation>时钟偏差</translation>
    </message>
    <message>
        <source>Delay</source>
        <translation>延迟</translation>
    </message>
    <message>
        <source>Server says</source>
        <translation>服务器返回</translation>
    </message>
    <message>
        <source>SNTP packet</source>
        <translation>SNTP 数据包</translation>
    </message>
    <message>
        <source>T1–T4</source>
        <translation>T1–T4</translation>
    </message>
    <message>
        <source>Over time</source>
        <translation>随时间变化</translation>
    </message>
    <message>
        <source>S&amp;top</source>
        <translation>停止(&amp;T)</translation>
    </message>
    <message>
        <source>Asking {0}…</source>
        <translation>正在查询 {0}…</translation>
    </message>
    <message>
        <source>unknown: DAYTIME is free-form text</source>
        <translation>未知：DAYTIME 是自由格式的文本</translation>
    </message>
    <message>
        <source>{0:+.3f} ms (the server&apos;s clock is ahead)</source>
        <translation>{0:+.3f} ms（服务器时钟偏快）</translation>
    </message>
    <message>
        <source>{0:+.3f} ms (the server&apos;s clock is behind)</source>
        <translation>{0:+.3f} ms（服务器时钟偏慢）</translation>
    </message>
    <message>
        <source>{0:.3f} ms</source>
        <translation>{0:.3f} ms</translation>
    </message>
    <message>
        <source>stratum {0}, reference {1}</source>
        <translation>层级 {0}，参考标识 {1}</translation>
    </message>
    <message>
        <source>, UNSYNCHRONISED (leap indicator 3): do not trust</source>
        <translation>，未同步（闰秒指示 3）：不可信</translation>
    </message>
    <message>
        <source>Reply {0} of {1} from {2}</source>
        <translation>第 {0}/{1} 个回复，来自 {2}</translation>
    </message>
</context>
<context>
    <name>TimePage</name>
    <message>
        <source>SNTP v4 (RFC 4330), UDP</source>
        <translation>SNTP v4 (RFC 4330), UDP</translation>
    </message>
    <message>
        <source>TIME (RFC 868), TCP</source>
        <translation>TIME (RFC 868), TCP</translation>
    </message>
    <message>
        <source>TIME (RFC 868), UDP</source>
        <translation>TIME (RFC 868), UDP</translation>
    </message>
    <message>
        <source>DAYTIME (RFC 867), TCP</source>
        <translation>DAYTIME (RFC 867), TCP</translation>
    </message>
    <message>
        <source>DAYTIME (RFC 867), UDP</source>
        <translation>DAYTIME (RFC 867), UDP</translation>
    </message>
    <message>
        <source>Course: 4-byte &apos;!I&apos; Unix time, UDP</source>
        <translation>课程版：4 字节 &apos;!I&apos; Unix 时间，UDP</translation>
    </message>
</context>
<context>
    <name>TimeServerPane</name>
    <message>
        <source> s</source>
        <translation> 秒</translation>
    </message>
    <message>
        <source>Run this server&apos;s clock ahead (+) or behind (−) the real time</source>
        <translation>让此服务器的时钟比真实时间快（+）或慢（−）</translation>
    </message>
    <message>
        <source>SNTP stratum: 1 = a reference clock, 2+ = synchronised to another server</source>
        <translation>SNTP 层级（stratum）：1 = 参考时钟，2+ = 与另一台服务器同步</translation>
    </message>
    <message>
        <source>SNTP reference ID: 4 ASCII characters for stratum 1</source>
        <translation>SNTP 参考标识（reference ID）：层级为 1 时是 4 个 ASCII 字符</translation>
    </message>
    <message>
        <source>Protocol</source>
        <translation>协议</translation>
    </message>
    <message>
        <source>Clock offset</source>
        <translation>时钟偏差</translation>
    </message>
    <message>
        <source>Stratum</source>
        <translation>层级</translation>
    </message>
    <message>
        <source>Reference ID</source>
        <translation>参考标识</translation>
    </message>
</context>
<context>
    <name>TimedOut</name>
    <message>
        <source>No answer from {where} — check the host, the port and any firewall between.</source>
        <translation>{where} 没有应答——请检查主机、端口以及中间的防火墙。</translation>
    </message>
    <message>
        <source>{action} {where} timed out after {timeout:g} s</source>
        <translation>{action} {where} 超时（已等待 {timeout:g} 秒）</translation>
    </message>
</context>
<context>
    <name>TooManyKeyGuesses</name>
    <message>
        <source>Someone may be guessing the key, or a client has the wrong key file.</source>
        <translation>可能有人在猜测密钥，或某个客户端用错了密钥文件。</translation>
    </message>
    <message>
        <source>{host} sent {failures} wrong keys within {window:g} s: its attempts are refused for {left:.0f} s more ({refused} refused so far)</source>
        <translation>{host} 在 {window:g} 秒内发送了 {failures} 次错误密钥：在接下来的 {left:.0f} 秒内拒绝它的尝试（至今已拒绝 {refused} 次）</translation>
    </message>
</context>
<context>
    <name>TrafficLogModel</name>
    <message>
        <source>#</source>
        <translation>#</translation>
    </message>
    <message>
        <source>Time</source>
        <translation>时间</translation>
    </message>
    <message>
        <source>Call</source>
        <translation>调用</translation>
    </message>
    <message>
        <source>Peer</source>
        <translation>对端</translation>
    </message>
    <message>
        <source>Bytes</source>
        <translation>字节</translation>
    </message>
    <message>
        <source>Data</source>
        <translation>数据</translation>
    </message>
    <message>
        <source>── connected ──</source>
        <translation>── 已连接 ──</translation>
    </message>
    <message>
        <source>── client connected ──</source>
        <translation>── 客户端已连接 ──</translation>
    </message>
    <message>
        <source>── FIN sent: our side is closed for sending ──</source>
        <translation>── 已发送 FIN：本端不再发送 ──</translation>
    </message>
    <message>
        <source>── FIN received: the peer has finished sending ──</source>
        <translation>── 收到 FIN：对端已发送完毕 ──</translation>
    </message>
    <message>
        <source>── closed by the peer (recv() returned b&quot;&quot;) ──</source>
        <translation>── 对端关闭了连接（recv() 返回 b&quot;&quot;）──</translation>
    </message>
    <message>
        <source>── closed here ──</source>
        <translation>── 本端关闭了连接 ──</translation>
    </message>
    <message>
        <source>── reset by the peer ──</source>
        <translation>── 对端重置了连接 ──</translation>
    </message>
    <message>
        <source>── closed on an error ──</source>
        <translation>── 因错误关闭 ──</translation>
    </message>
    <message>
        <source>stream offset {0}–{1} of connection #{2}</source>
        <translation>连接 #{2} 的流偏移 {0}–{1}</translation>
    </message>
</context>
<context>
    <name>TrafficView</name>
    <message>
        <source>Save traffic…</source>
        <translation>保存流量…</translation>
    </message>
    <message>
        <source>Save as a hex dump for Wireshark&apos;s Import from Hex Dump, or as JSON lines</source>
        <translation>保存为十六进制转储（供 Wireshark 的“从 Hex 转储导入”使用），或保存为 JSON lines</translation>
    </message>
    <message>
        <source>Copy rows as text</source>
        <translation>复制所选行（文本）</translation>
    </message>
    <message>
        <source>Copy rows as hex dump</source>
        <translation>复制所选行（十六进制转储）</translation>
    </message>
    <message>
        <source>Copy rows as CSV</source>
        <translation>复制所选行（CSV）</translation>
    </message>
    <message>
        <source>Copy bytes (hex)</source>
        <translation>复制字节（十六进制）</translation>
    </message>
    <message>
        <source>Save selection…</source>
        <translation>保存所选内容…</translation>
    </message>
    <message>
        <source>Wireshark hex dump (*.txt)</source>
        <translation>Wireshark 十六进制转储 (*.txt)</translation>
    </message>
    <message>
        <source>JSON lines (*.jsonl)</source>
        <translation>JSON lines (*.jsonl)</translation>
    </message>
    <message>
        <source>Save traffic</source>
        <translation>保存流量</translation>
    </message>
    <message>
        <source>Cannot save {0}: {1}</source>
        <translation>无法保存 {0}：{1}</translation>
    </message>
    <message numerus="yes">
        <source>{0:,} chunk(s)</source>
        <translation>
            <numerusform>{0:,} 个块</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>{0:,} byte(s)</source>
        <translation>
            <numerusform>{0:,} 字节</numerusform>
        </translation>
    </message>
    <message>
        <source> · {0:,} older chunks ({1:,} bytes) dropped to stay within {2:,} bytes</source>
        <translation> · 为不超过 {2:,} 字节，已丢弃 {0:,} 个较早的块（{1:,} 字节）</translation>
    </message>
    <message>
        <source>Connection #{0} only: {1:,} chunks · {2:,} bytes of {3}</source>
        <translation>仅连接 #{0}：{1:,} 个块 · {2:,} 字节，共 {3}</translation>
    </message>
    <message>
        <source>Filtered: {0:,} chunks · {1:,} bytes of {2}</source>
        <translation>已筛选：{0:,} 个块 · {1:,} 字节，共 {2}</translation>
    </message>
    <message numerus="yes">
        <source>Paused — {0:,} new chunk(s)</source>
        <translation>
            <numerusform>已暂停 — {0:,} 个新块</numerusform>
        </translation>
    </message>
    <message>
        <source> ({0:,} chunks recorded since already dropped to stay within {1:,} bytes)</source>
        <translation>（为不超过 {1:,} 字节，暂停后记录的块中已有 {0:,} 个被丢弃）</translation>
    </message>
</context>
<context>
    <name>UdpClientPane</name>
    <message>
        <source> s</source>
        <translation> 秒</translation>
    </message>
    <message>
        <source>How long to wait for a reply before calling it lost</source>
        <translation>等待回复多久后判定为丢失</translation>
    </message>
    <message>
        <source>Connected UDP</source>
        <translation>已连接 UDP</translation>
    </message>
    <message>
        <source>connect() the socket: the kernel then reports ICMP &apos;port unreachable&apos; instead of a timeout</source>
        <translation>对套接字调用 connect()：之后内核会报告 ICMP“端口不可达”，而不是超时</translation>
    </message>
    <message>
        <source>&amp;Close socket</source>
        <translation>关闭套接字(&amp;C)</translation>
    </message>
    <message>
        <source>&amp;Send</source>
        <translation>发送(&amp;S)</translation>
    </message>
    <message>
        <source>Send one datagram (Ctrl+Enter in the message box)</source>
        <translation>发送一个数据报（在消息框中按 Ctrl+Enter）</translation>
    </message>
    <message>
        <source> ms</source>
        <translation> ms</translation>
    </message>
    <message>
        <source> B</source>
        <translation> B</translation>
    </message>
    <message>
        <source>&amp;Probe</source>
        <translation>探测(&amp;P)</translation>
    </message>
    <message>
        <source>Send numbered datagrams at an interval; count lost, late, duplicated and reordered replies</source>
        <translation>按固定间隔发送带编号的数据报；统计丢失、迟到、重复和乱序的回复</translation>
    </message>
    <message>
        <source>round trip (ms) by sequence number; red: lost</source>
        <translation>按序号显示的往返时间（ms）；红色：丢失</translation>
    </message>
    <message>
        <source>No socket open yet: Send or Probe opens one</source>
        <translation>尚未打开套接字：“发送”或“探测”时会打开</translation>
    </message>
    <message>
        <source>Server</source>
        <translation>服务器</translation>
    </message>
    <message>
        <source>Timeout</source>
        <translation>超时</translation>
    </message>
    <message>
        <source>Receive buffer</source>
        <translation>接收缓冲区</translation>
    </message>
    <message>
        <source>Probe</source>
        <translation>探测</translation>
    </message>
    <message>
        <source>every</source>
        <translation>间隔</translation>
    </message>
    <message>
        <source>size</source>
        <translation>大小</translation>
    </message>
    <message>
        <source>Probing…</source>
        <translation>正在探测…</translation>
    </message>
    <message>
        <source>Socket closed: Send or Probe opens a new one</source>
        <translation>套接字已关闭：“发送”或“探测”时会打开新的套接字</translation>
    </message>
    <message>
        <source>{0:,} bytes: too large for one UDP datagram (max 65,507 = 65,535 − 20 IP − 8 UDP)</source>
        <translation>{0:,} 字节：超出单个 UDP 数据报的上限（最大 65,507 = 65,535 − 20 IP − 8 UDP）</translation>
    </message>
    <message>
        <source>{0:,} bytes: over 1,472, so IP fragments it on a 1,500-byte MTU path</source>
        <translation>{0:,} 字节：超过 1,472，在 MTU 为 1,500 字节的路径上会被 IP 分片</translation>
    </message>
    <message>
        <source>connected</source>
        <translation>已连接</translation>
    </message>
    <message>
        <source>unconnected</source>
        <translation>未连接</translation>
    </message>
    <message>
        <source>UDP socket {0} → {1} ({2})</source>
        <translation>UDP 套接字 {0} → {1}（{2}）</translation>
    </message>
    <message>
        <source>Reply of {0:,} bytes from {1}</source>
        <translation>收到来自 {1} 的 {0:,} 字节回复</translation>
    </message>
    <message>
        <source>Datagram from {0} truncated: kept {1:,} of {2:,} bytes — the rest is lost, unlike TCP</source>
        <translation>来自 {0} 的数据报被截断：{2:,} 字节中只保留了 {1:,} 字节——其余部分丢失了，这一点与 TCP 不同</translation>
    </message>
    <message>
        <source>Sent {0:,} bytes: IP fragments this datagram on a 1,500-byte MTU path</source>
        <translation>已发送 {0:,} 字节：在 MTU 为 1,500 字节的路径上，IP 会对此数据报分片</translation>
    </message>
    <message>
        <source>Traffic</source>
        <translation>流量</translation>
    </message>
    <message>
        <source>{0} sent · {1} received · {2} lost ({3:.1f} %) · {4} late · {5} duplicated · {6} reordered
round trip min {7} / avg {8} / max {9} ms · p50 {10} · p99 {11} · jitter {12} ms</source>
        <translation>已发送 {0} · 已接收 {1} · 丢失 {2}（{3:.1f} %）· 迟到 {4} · 重复 {5} · 乱序 {6}
往返时间 最小 {7} / 平均 {8} / 最大 {9} ms · p50 {10} · p99 {11} · 抖动 {12} ms</translation>
    </message>
</context>
<context>
    <name>UdpEchoPage</name>
    <message>
        <source> B</source>
        <translation> B</translation>
    </message>
    <message>
        <source>Receive buffer per datagram (recvfrom size). A smaller buffer truncates larger datagrams: the rest is discarded, unlike TCP.</source>
        <translation>每个数据报的接收缓冲区（recvfrom 的大小）。缓冲区较小时，较大的数据报会被截断：其余部分被丢弃，这一点与 TCP 不同。</translation>
    </message>
</context>
<context>
    <name>UdpServerPane</name>
    <message>
        <source>Receive buffer</source>
        <translation>接收缓冲区</translation>
    </message>
    <message>
        <source>Let another socket bind the same address (SO_REUSEADDR)</source>
        <translation>允许其他套接字绑定同一地址（SO_REUSEADDR）</translation>
    </message>
    <message>
        <source>Datagram from {0} truncated: kept {1:,} of {2:,} bytes</source>
        <translation>来自 {0} 的数据报被截断：{2:,} 字节中只保留了 {1:,} 字节</translation>
    </message>
</context>
<context>
    <name>Verdict</name>
    <message>
        <source>no framing</source>
        <translation>无分帧</translation>
    </message>
    <message>
        <source>length prefix</source>
        <translation>长度前缀</translation>
    </message>
    <message>
        <source> + </source>
        <translation> + </translation>
    </message>
    <message>
        <source>1 chunk</source>
        <translation>1 个数据块</translation>
    </message>
    <message>
        <source>1 message</source>
        <translation>1 条消息</translation>
    </message>
    <message>
        <source>1 recv() chunk</source>
        <translation>1 个 recv() 数据块</translation>
    </message>
    <message>
        <source>1 segment</source>
        <translation>1 个报文段</translation>
    </message>
    <message>
        <source>1 send() call</source>
        <translation>1 次 send() 调用</translation>
    </message>
    <message>
        <source>delimiter</source>
        <translation>分隔符</translation>
    </message>
    <message>
        <source>recv({size}) returned {got:,}</source>
        <translation>recv({size}) 返回 {got:,}</translation>
    </message>
    <message>
        <source>the sender&apos;s TCP emitted {segments} with data for {sends}</source>
        <translation>发送端的 TCP 为 {sends}发出了携带数据的 {segments}</translation>
    </message>
    <message>
        <source>{cure}: {recovered} of {sent} messages recovered from {chunks}</source>
        <translation>{cure}：从 {chunks}中完整还原了 {recovered}/{sent} 条消息</translation>
    </message>
    <message>
        <source>{messages} ({total:,} bytes) sent; {calls}: each read takes what is there, wherever the messages began and ended</source>
        <translation>发送了 {messages}（{total:,} 字节）；{calls}：每次读取都拿走缓冲区里已有的数据，不管消息从哪里开始、到哪里结束</translation>
    </message>
    <message>
        <source>{messages} sent, received as {chunks}: messages were split across recv() calls</source>
        <translation>发送了 {messages}，接收端收到 {chunks}：消息被拆分到了多次 recv() 调用中</translation>
    </message>
    <message>
        <source>{messages} sent, received as {chunks}: the boundaries survived this time, but TCP does not promise it</source>
        <translation>发送了 {messages}，接收端收到 {chunks}：这次边界恰好保留了下来，但 TCP 并不保证这一点</translation>
    </message>
    <message>
        <source>{messages} sent, received as {chunks}: the chunk boundaries fall inside messages</source>
        <translation>发送了 {messages}，接收端收到 {chunks}：数据块的边界落在了消息内部</translation>
    </message>
    <message>
        <source>{messages} sent, received as {chunks}: the receiver cannot tell where &apos;{first}&apos; ends</source>
        <translation>发送了 {messages}，接收端收到 {chunks}：接收端无法判断“{first}”在哪里结束</translation>
    </message>
    <message>
        <source>{n:,} chunks</source>
        <translation>{n:,} 个数据块</translation>
    </message>
    <message>
        <source>{n:,} messages</source>
        <translation>{n:,} 条消息</translation>
    </message>
    <message>
        <source>{n:,} recv() chunks</source>
        <translation>{n:,} 个 recv() 数据块</translation>
    </message>
    <message>
        <source>{n:,} segments</source>
        <translation>{n:,} 个报文段</translation>
    </message>
    <message>
        <source>{n:,} send() calls</source>
        <translation>{n:,} 次 send() 调用</translation>
    </message>
    <message>
        <source>{total:,} bytes sent, {calls}: {waiting:,} bytes are still waiting{nothing}</source>
        <translation>共发送 {total:,} 字节，{calls}：还有 {waiting:,} 字节在接收缓冲区中等待{nothing}</translation>
    </message>
    <message>
        <source>JSON header</source>
        <translation>JSON 报头</translation>
    </message>
    <message>
        <source>announce and wait</source>
        <translation>先报长度再等待</translation>
    </message>
    <message>
        <source>, </source>
        <translation>，</translation>
    </message>
    <message>
        <source> (nothing read)</source>
        <translation>（什么也没读到）</translation>
    </message>
    <message>
        <source>how many TCP segments the sender emitted cannot be known on this system (no TCP_INFO)</source>
        <translation>在此系统上无法得知发送端 TCP 发出了多少个报文段（没有 TCP_INFO）</translation>
    </message>
</context>
</TS>
